import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CertificateCandidate } from '../../../src/tls/certificate.ts';
import type { SourceScan } from '../../../src/tls/dir-source.ts';
import { createCertificateManager } from '../../../src/tls/manager.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { createTestCa } from '../../helpers/test-ca.ts';

/** The grace period for absent certificates, on an injected clock: no waiting. */
const ca = createTestCa();

function candidate(name: string): CertificateCandidate {
  const leaf = ca.issue({ names: [name] });
  return { source: `dir:${name}.crt`, name, location: `/certs/${name}.crt + /certs/${name}.key`, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

function setup(graceMs: number) {
  let scan: SourceScan = { candidates: [candidate('a.test'), candidate('b.test')], failures: [] };
  let clock = Date.now();
  const rechecks: number[] = [];
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const manager = createCertificateManager({
    origins: [{ id: 'dir', scan: async () => scan }],
    defaultName: undefined,
    logger: createLogger({ level: 'debug', format: 'json', destination }),
    metrics: createMetrics(),
    now: () => clock,
    absentGraceMs: graceMs,
    recheckAt: (at) => rechecks.push(at),
  });
  return {
    manager,
    rechecks,
    lines,
    setScan: (next: SourceScan) => (scan = next),
    advance: (ms: number) => (clock += ms),
    now: () => clock,
    served: () => manager.list().map((c) => c.names[0]).sort(),
  };
}

describe('certificate manager: absent files', () => {
  it('keeps serving an absent certificate until the grace period ends, asks to be woken then, and drops it with a warning', async () => {
    const t = setup(60_000);
    await t.manager.reload();
    const before = t.served();
    t.setScan({ candidates: [], failures: [] });
    const missedAt = t.now();
    await t.manager.reload();
    expect(t.served()).toEqual(before);
    expect(t.rechecks).toEqual([missedAt + 60_000]);
    expect(t.lines.filter((l) => String(l.msg).includes('are gone')).map((l) => [l.level, l.keptUntil])).toEqual([
      [30, new Date(missedAt + 60_000).toISOString()],
      [30, new Date(missedAt + 60_000).toISOString()],
    ]);

    expect(t.manager.list().map((c) => c.absent)).toEqual([
      { since: new Date(missedAt).toISOString(), droppedAt: new Date(missedAt + 60_000).toISOString() },
      { since: new Date(missedAt).toISOString(), droppedAt: new Date(missedAt + 60_000).toISOString() },
    ]);

    t.advance(59_999);
    await t.manager.reload();
    expect(t.served()).toEqual(['a.test', 'b.test']);

    t.advance(1);
    await t.manager.reload();
    expect(t.served()).toEqual([]);
    const warnings = t.lines.filter((l) => String(l.msg).includes('no longer served'));
    expect(warnings.map((l) => [l.level, l.source, l.absentSeconds])).toEqual([
      [40, 'dir:a.test.crt', 60],
      [40, 'dir:b.test.crt', 60],
    ]);
    expect(warnings[0]?.msg).toBe('certificate for a.test no longer served: its files have been gone for 60 s (longer than the grace period for absent certificates)');
    // Nothing left to wait for: no further wake-up asked.
    expect(t.rechecks).toEqual([missedAt + 60_000, missedAt + 60_000]);
  });

  it('says when the files are back, and the clock starts again at the next absence', async () => {
    const t = setup(60_000);
    await t.manager.reload();
    const full: SourceScan = { candidates: [candidate('a.test')], failures: [] };
    t.setScan({ candidates: [], failures: [] });
    await t.manager.reload();
    t.advance(50_000);
    t.setScan(full);
    await t.manager.reload();
    expect(t.lines.filter((l) => l.msg === 'certificate files are back').map((l) => l.source)).toEqual(['dir:a.test.crt']);
    expect(t.manager.list().map((c) => [c.names[0], c.absent !== undefined])).toEqual([
      ['a.test', false],
      ['b.test', true],
    ]);
    t.setScan({ candidates: [], failures: [] });
    t.advance(20_000);
    await t.manager.reload();
    expect(t.served()).toEqual(['a.test']);
  });
});
