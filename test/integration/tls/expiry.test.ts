import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { startCertificates, type Certificates } from '../../../src/tls/index.ts';
import { waitFor } from '../../helpers/http.ts';
import { createTestCa } from '../../helpers/test-ca.ts';
import { writePair } from './support.ts';

/** The expiry check runs at load and then on a timer ("daily"; shortened here), on a clock the test moves. */
const ca = createTestCa();
const DAY = 86_400_000;

let dir: string;
let certificates: Certificates | null = null;
afterEach(async () => {
  await certificates?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('certificate expiry', () => {
  it('warns once the certificate is within 14 days, on the periodic check, and keeps the metric current', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-tls-expiry-'));
    await writePair(dir, 'app.crt', 'app.key', ca.issue({ names: ['app.test'], notAfter: new Date(Date.now() + 20.5 * DAY) }));
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    const metrics = createMetrics();
    let now = Date.now();
    certificates = await startCertificates({ dir, absentGraceMs: 60_000 }, {
      logger: createLogger({ level: 'info', format: 'json', destination }),
      metrics,
      now: () => now,
      checkIntervalMs: 100,
    });
    const warnings = () => lines.filter((line) => String(line.msg).startsWith('certificate for app.test expires'));
    expect(warnings()).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('gatehouse_tls_certificate_days_left')).toContain('names="app.test"} 20');

    now += 7 * DAY;
    const warning = await waitFor(() => warnings()[0], 'the expiry warning');
    expect(warning).toMatchObject({ level: 40, daysLeft: 13, names: ['app.test'], file: expect.stringContaining('app.crt') });
    expect(await metrics.registry.getSingleMetricAsString('gatehouse_tls_certificate_days_left')).toContain('names="app.test"} 13');

    // Past its expiry the certificate is no longer served at all.
    now += 14 * DAY;
    await waitFor(() => (certificates?.list().length === 0 ? true : undefined), 'the expired certificate to be dropped');
    expect(lines.some((line) => String(line.reason).startsWith('the certificate expired on'))).toBe(true);
    expect(await metrics.registry.getSingleMetricAsString('gatehouse_tls_certificate_days_left')).not.toContain('app.test');
  });
});
