import { describe, expect, it } from 'vitest';
import { localTime } from '../../../src/policy/index.ts';

/** localTime caches a zone's offset per quarter hour: it must agree with Intl at every instant, across DST changes. */

function reference(now: number, timeZone: string): { day: number; seconds: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  return { day: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday as string), seconds: Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second) };
}

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham'];

describe('localTime', () => {
  it.each(ZONES)('agrees with Intl in %s around each DST change of 2026 and at random instants', (zone) => {
    const instants: number[] = [];
    // Every 7.5 minutes through the days around the usual change dates (March/April, October/November).
    for (const [month, day] of [[2, 8], [2, 29], [3, 5], [8, 27], [9, 4], [9, 25], [10, 1]] as const) {
      const start = Date.UTC(2026, month, day) - 86_400_000;
      for (let t = start; t < start + 3 * 86_400_000; t += 450_000) instants.push(t, t + 59_999);
    }
    let seed = 12345;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      instants.push(Date.UTC(2020, 0, 1) + (seed / 2 ** 31) * 10 * 365 * 86_400_000);
    }
    for (const now of instants) expect(localTime(Math.floor(now), zone), `${zone} ${new Date(now).toISOString()}`).toEqual(reference(Math.floor(now), zone));
  });
});
