import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/docker/backoff.ts';
import { EventLineSplitter, isRelevantEvent } from '../../../src/docker/events.ts';

/** Events as Docker 20.10 sent them on `GET /events` (trimmed attributes). */
const start = { status: 'start', id: 'c1', Type: 'container', Action: 'start', Actor: { ID: 'c1', Attributes: { name: 'web' } }, scope: 'local', time: 1 };
const healthy = { status: 'health_status: healthy', id: 'c1', Type: 'container', Action: 'health_status: healthy', Actor: { ID: 'c1', Attributes: {} } };
const connect = { Type: 'network', Action: 'connect', Actor: { ID: 'n1', Attributes: { container: 'c1', name: 'bridge', type: 'bridge' } } };

describe('isRelevantEvent', () => {
  it.each([
    ['container', 'start'], ['container', 'die'], ['container', 'stop'], ['container', 'kill'], ['container', 'destroy'],
    ['container', 'pause'], ['container', 'unpause'], ['container', 'rename'], ['container', 'update'],
    ['container', 'health_status: healthy'], ['container', 'health_status: unhealthy'], ['container', 'health_status: starting'],
    ['network', 'connect'], ['network', 'disconnect'], ['container', 'create'],
  ])('%s %s triggers a re-list', (Type, Action) => {
    expect(isRelevantEvent({ Type, Action })).toBe(true);
  });

  it.each([
    ['container', 'exec_create: /bin/sh -c wget -qO- http://127.0.0.1/ || exit 1'], ['container', 'exec_start: sh'], ['container', 'exec_die'],
    ['container', 'attach'], ['container', 'resize'], ['network', 'destroy'], ['network', 'create'], ['image', 'pull'],
  ])('%s %s does not', (Type, Action) => {
    expect(isRelevantEvent({ Type, Action })).toBe(false);
  });

  it('reads pre-1.22 events that carry only `status`, and ignores junk', () => {
    expect(isRelevantEvent({ status: 'die', id: 'c1' })).toBe(true);
    expect(isRelevantEvent({ status: 'exec_die', id: 'c1' })).toBe(false);
    expect(isRelevantEvent(null)).toBe(false);
    expect(isRelevantEvent('start')).toBe(false);
    expect(isRelevantEvent({ Type: 7, Action: 'start' })).toBe(false);
  });
});

describe('EventLineSplitter', () => {
  const stream = [start, healthy, connect].map((event) => `${JSON.stringify(event)}\n`).join('');

  it('returns events split at every possible byte boundary, in order', () => {
    const bytes = Buffer.from(stream);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const splitter = new EventLineSplitter();
      const events = [...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))];
      expect(events).toEqual([start, healthy, connect].map((event) => ({ ok: true, event })));
    }
  });

  it('keeps a multi-byte character that a chunk boundary cuts in half', () => {
    const line = Buffer.from(`${JSON.stringify({ Type: 'container', Action: 'rename', Actor: { Attributes: { name: 'café' } } })}\n`);
    const cut = line.indexOf(Buffer.from('é')) + 1;
    const splitter = new EventLineSplitter();
    expect(splitter.push(line.subarray(0, cut))).toEqual([]);
    const [parsed] = splitter.push(line.subarray(cut));
    expect(parsed).toEqual({ ok: true, event: { Type: 'container', Action: 'rename', Actor: { Attributes: { name: 'café' } } } });
  });

  it('holds a partial line until its newline arrives, one byte at a time', () => {
    const splitter = new EventLineSplitter();
    const seen = [];
    for (const byte of Buffer.from(stream)) seen.push(...splitter.push(Buffer.from([byte])));
    expect(seen.map((line) => line.ok && (line.event as { Action: string }).Action)).toEqual(['start', 'health_status: healthy', 'connect']);
  });

  it('reports an unreadable line instead of throwing, and skips blank lines', () => {
    const splitter = new EventLineSplitter();
    expect(splitter.push('\n{"Type":"container"\n\r\n')).toEqual([{ ok: false, line: '{"Type":"container"' }]);
  });

  it('throws when a line grows past the cap without a newline', () => {
    const splitter = new EventLineSplitter(64);
    expect(() => splitter.push('x'.repeat(65))).toThrow(/exceeded 64 bytes/);
  });
});

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs, jittered within [base/2, base], forever', () => {
    const low = new Backoff({ initialMs: 500, maxMs: 30_000 }, () => 0);
    const high = new Backoff({ initialMs: 500, maxMs: 30_000 }, () => 1);
    const lows = Array.from({ length: 10 }, () => low.next());
    const highs = Array.from({ length: 10 }, () => high.next());
    expect(highs).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
    expect(lows).toEqual(highs.map((ms) => ms / 2));
    for (let i = 0; i < 1000; i += 1) low.next();
    expect(low.next()).toBe(15_000);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1);
    backoff.next();
    backoff.next();
    expect(backoff.next()).toBe(400);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
