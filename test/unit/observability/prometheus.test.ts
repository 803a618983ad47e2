import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { Counter, Gauge, Histogram, Registry, registerProcessMetrics } from '../../../src/observability/prometheus.ts';

describe('the Prometheus text format', () => {
  it('writes counters by label set, with HELP and TYPE', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'x_total', help: 'Things', labelNames: ['route', 'status'] as const, registers: [registry] });
    counter.inc({ route: 'a', status: '200' });
    counter.inc({ route: 'a', status: '200' });
    counter.inc({ status: '404', route: 'b' }, 3);
    expect(await registry.metrics()).toBe('# HELP x_total Things\n# TYPE x_total counter\nx_total{route="a",status="200"} 2\nx_total{route="b",status="404"} 3\n');
  });

  it('shows an unlabelled metric as 0 before anything is recorded, a labelled one with no series', async () => {
    const registry = new Registry();
    new Counter({ name: 'plain_total', help: 'h', registers: [registry] });
    new Gauge({ name: 'by_code', help: 'h', labelNames: ['code'] as const, registers: [registry] });
    expect(await registry.metrics()).toBe('# HELP plain_total h\n# TYPE plain_total counter\nplain_total 0\n# HELP by_code h\n# TYPE by_code gauge\n');
  });

  it('escapes label values and help text, so a hostile route id cannot forge a sample', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'g', help: 'a\\b\nc', labelNames: ['route'] as const, registers: [registry] });
    gauge.set({ route: 'x"} 1\nforged{a="' }, 2);
    const text = await registry.metrics();
    expect(text).toBe('# HELP g a\\\\b\\nc\n# TYPE g gauge\ng{route="x\\"} 1\\nforged{a=\\""} 2\n');
    expect(text.split('\n').filter((line) => line.startsWith('forged'))).toEqual([]);
  });

  it('writes cumulative histogram buckets with +Inf, sum and count', async () => {
    const registry = new Registry();
    const histogram = new Histogram({ name: 'd_seconds', help: 'h', labelNames: ['route'] as const, buckets: [0.1, 0.01, 1], registers: [registry] });
    histogram.observe({ route: 'r' }, 0.005);
    histogram.observe({ route: 'r' }, 0.05);
    histogram.observe({ route: 'r' }, 0.05);
    histogram.observe({ route: 'r' }, 7);
    expect(await registry.getSingleMetricAsString('d_seconds')).toBe(
      [
        '# HELP d_seconds h',
        '# TYPE d_seconds histogram',
        'd_seconds_bucket{route="r",le="0.01"} 1',
        'd_seconds_bucket{route="r",le="0.1"} 3',
        'd_seconds_bucket{route="r",le="1"} 3',
        'd_seconds_bucket{route="r",le="+Inf"} 4',
        'd_seconds_sum{route="r"} 7.105',
        'd_seconds_count{route="r"} 4',
        '',
      ].join('\n'),
    );
  });

  it('sets, increments and resets gauges', async () => {
    const gauge = new Gauge({ name: 'g', help: 'h', labelNames: ['source'] as const });
    gauge.set({ source: 'a' }, 5);
    gauge.inc({ source: 'a' });
    gauge.inc({ source: 'b' }, 2);
    expect((await gauge.get()).values).toEqual([
      { labels: { source: 'a' }, value: 6 },
      { labels: { source: 'b' }, value: 2 },
    ]);
    gauge.reset();
    expect((await gauge.get()).values).toEqual([]);
  });

  it('refuses a label the metric does not declare, a counter going down, a name registered twice', () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'c_total', help: 'h', labelNames: ['event'] as const, registers: [registry] });
    expect(() => counter.inc({ evnt: 'x' } as never)).toThrow('c_total has no label "evnt" (labels: event)');
    expect(() => counter.inc({ event: 'x' }, -1)).toThrow('a counter only goes up');
    expect(() => new Counter({ name: 'c_total', help: 'h', registers: [registry] })).toThrow('already registered');
  });

  it("reads the process metrics when scraped, under prom-client's default names", async () => {
    const registry = new Registry();
    registerProcessMetrics(registry, 'p_');
    const text = await registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('p_process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(value('p_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('p_process_open_fds')).toBeGreaterThan(2);
    expect(Math.abs(value('p_process_start_time_seconds') - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
    expect(value('p_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(text).toContain(`p_nodejs_version_info{version="${process.version}"`);
  });

  it("Gatehouse's registry carries every metric it documents", async () => {
    const metrics = createMetrics();
    metrics.requests.inc({ route: 'none', status: '404' });
    metrics.requestDuration.observe({ route: 'none' }, 0.002);
    const text = await metrics.registry.metrics();
    for (const name of ['gatehouse_requests_total', 'gatehouse_request_duration_seconds', 'gatehouse_routes', 'gatehouse_rejected_sources', 'gatehouse_discovery_up', 'gatehouse_route_reloads_total', 'gatehouse_audit_events_total', 'gatehouse_tls_certificate_days_left', 'gatehouse_process_process_cpu_seconds_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('gatehouse_request_duration_seconds_bucket{route="none",le="0.0025"} 1');
  });
});
