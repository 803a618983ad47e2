import { readdirSync } from 'node:fs';

/**
 * The few Prometheus metric kinds Gatehouse exports (counter, gauge, histogram), a registry that
 * writes them in the text exposition format, and the process metrics that were prom-client's
 * defaults. Written here rather than imported: prom-client (with the @opentelemetry/api it loads)
 * held about 7 MB of every idle Gatehouse's private memory, and its default metrics kept an
 * event-loop-delay timer and a GC observer running for a scrape that may never come
 * (BENCHMARKS.md, bench/README.md "Experiments").
 */

export type Labels<N extends string> = Partial<Record<N, string | number>>;

export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

export interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: Sample[];
}

interface Exportable {
  readonly name: string;
  snapshot(): MetricSnapshot;
}

const SEPARATOR = '\u0001';

/** The series of one metric, keyed by its label values in the declared order. */
abstract class Metric<N extends string, S> implements Exportable {
  protected readonly series = new Map<string, { labels: Record<string, string>; state: S }>();
  readonly name: string;
  readonly help: string;
  protected readonly labelNames: readonly N[];

  constructor(options: { name: string; help: string; labelNames?: readonly N[]; registers?: Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    for (const registry of options.registers ?? []) registry.registerMetric(this);
  }

  abstract snapshot(): MetricSnapshot;

  /** Clears every series (a labelled metric whose label sets changed, e.g. certificates). */
  reset(): void {
    this.series.clear();
  }

  async get(): Promise<MetricSnapshot> {
    return this.snapshot();
  }

  protected state(labels: Labels<N> | undefined, fresh: () => S): S {
    let key = '';
    if (labels !== undefined) {
      for (const name in labels) {
        if (!this.labelNames.includes(name as N)) throw new Error(`${this.name} has no label "${name}" (labels: ${this.labelNames.join(', ') || 'none'})`);
      }
      for (let i = 0; i < this.labelNames.length; i++) key += (i === 0 ? '' : SEPARATOR) + String(labels[this.labelNames[i]!] ?? '');
    }
    const found = this.series.get(key);
    if (found !== undefined) return found.state;
    const entry = { labels: labelRecord(this.labelNames, labels), state: fresh() };
    this.series.set(key, entry);
    return entry.state;
  }

  /** An unlabelled metric shows 0 before anything is recorded, as Prometheus clients do. */
  protected unlabelledDefault(fresh: () => S): void {
    if (this.labelNames.length === 0 && this.series.size === 0) this.state(undefined, fresh);
  }
}

function labelRecord(names: readonly string[], labels: Record<string, string | number | undefined> | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (labels === undefined) return record;
  for (const name of names) if (labels[name] !== undefined) record[name] = String(labels[name]);
  return record;
}

type Value = { value: number };

export class Counter<N extends string = string> extends Metric<N, Value> {
  inc(labelsOrValue?: Labels<N> | number, value?: number): void {
    const labels = typeof labelsOrValue === 'object' ? labelsOrValue : undefined;
    const by = typeof labelsOrValue === 'number' ? labelsOrValue : (value ?? 1);
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${by})`);
    this.state(labels, () => ({ value: 0 })).value += by;
  }

  snapshot(): MetricSnapshot {
    this.unlabelledDefault(() => ({ value: 0 }));
    return { name: this.name, help: this.help, type: 'counter', values: [...this.series.values()].map(({ labels, state }) => ({ labels, value: state.value })) };
  }
}

export class Gauge<N extends string = string> extends Metric<N, Value> {
  set(labelsOrValue: Labels<N> | number, value?: number): void {
    if (typeof labelsOrValue === 'number') this.state(undefined, () => ({ value: 0 })).value = labelsOrValue;
    else this.state(labelsOrValue, () => ({ value: 0 })).value = value ?? 0;
  }

  inc(labelsOrValue?: Labels<N> | number, value?: number): void {
    const labels = typeof labelsOrValue === 'object' ? labelsOrValue : undefined;
    this.state(labels, () => ({ value: 0 })).value += typeof labelsOrValue === 'number' ? labelsOrValue : (value ?? 1);
  }

  snapshot(): MetricSnapshot {
    this.unlabelledDefault(() => ({ value: 0 }));
    return { name: this.name, help: this.help, type: 'gauge', values: [...this.series.values()].map(({ labels, state }) => ({ labels, value: state.value })) };
  }
}

type Buckets = { counts: Float64Array; sum: number; count: number };

export class Histogram<N extends string = string> extends Metric<N, Buckets> {
  private readonly buckets: readonly number[];

  constructor(options: { name: string; help: string; labelNames?: readonly N[]; buckets: readonly number[]; registers?: Registry[] }) {
    super(options);
    this.buckets = [...options.buckets].sort((a, b) => a - b);
  }

  observe(labelsOrValue: Labels<N> | number, value?: number): void {
    const labels = typeof labelsOrValue === 'object' ? labelsOrValue : undefined;
    const v = typeof labelsOrValue === 'number' ? labelsOrValue : (value ?? Number.NaN);
    if (Number.isNaN(v)) throw new Error(`${this.name}: observed a value that is not a number`);
    const state = this.state(labels, () => ({ counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
    // Non-cumulative counts here; the exposition adds them up.
    const bucket = this.buckets.findIndex((upper) => v <= upper);
    if (bucket !== -1) state.counts[bucket]! += 1;
    state.sum += v;
    state.count += 1;
  }

  snapshot(): MetricSnapshot {
    const values: Sample[] = [];
    const fresh = () => ({ counts: new Float64Array(this.buckets.length), sum: 0, count: 0 });
    this.unlabelledDefault(fresh);
    for (const { labels, state } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((upper, i) => {
        cumulative += state.counts[i]!;
        values.push({ labels: { ...labels, le: upper }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: state.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: state.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: state.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values };
  }
}

/** Metrics read at scrape time (the process metrics). */
class Collected implements Exportable {
  readonly name: string;
  private readonly help: string;
  private readonly type: 'counter' | 'gauge';
  private readonly read: () => number | null;

  constructor(name: string, help: string, type: 'counter' | 'gauge', read: () => number | null) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.read = read;
  }

  snapshot(): MetricSnapshot {
    const value = this.read();
    return { name: this.name, help: this.help, type: this.type, values: value === null ? [] : [{ labels: {}, value }] };
  }
}

export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  private readonly metricsByName = new Map<string, Exportable>();

  registerMetric(metric: Exportable): void {
    if (this.metricsByName.has(metric.name)) throw new Error(`a metric named ${metric.name} is already registered`);
    this.metricsByName.set(metric.name, metric);
  }

  async metrics(): Promise<string> {
    return [...this.metricsByName.values()].map((metric) => exposition(metric.snapshot())).join('');
  }

  async getSingleMetricAsString(name: string): Promise<string> {
    const metric = this.metricsByName.get(name);
    return metric === undefined ? '' : exposition(metric.snapshot());
  }
}

/**
 * The process metrics prom-client's defaults gave, under the same names (after `prefix`), read
 * when scraped: CPU, resident memory, open files, start time, the V8 heap and Node's version.
 */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  const cpu = (pick: (usage: NodeJS.CpuUsage) => number) => () => pick(process.cpuUsage()) / 1e6;
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  const entries: [string, string, 'counter' | 'gauge', () => number | null][] = [
    ['process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', 'counter', cpu((u) => u.user)],
    ['process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', 'counter', cpu((u) => u.system)],
    ['process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', 'counter', cpu((u) => u.user + u.system)],
    ['process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 'gauge', () => startTime],
    ['process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', () => process.memoryUsage.rss()],
    ['process_open_fds', 'Number of open file descriptors.', 'gauge', openFiles],
    ['nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'gauge', () => process.memoryUsage().heapTotal],
    ['nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'gauge', () => process.memoryUsage().heapUsed],
    ['nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'gauge', () => process.memoryUsage().external],
  ];
  for (const [name, help, type, read] of entries) registry.registerMetric(new Collected(`${prefix}${name}`, help, type, read));
  const [major, minor, patch] = process.versions.node.split('.');
  const version = new Gauge({ name: `${prefix}nodejs_version_info`, help: 'Node.js version info.', labelNames: ['version', 'major', 'minor', 'patch'] as const, registers: [registry] });
  version.set({ version: process.version, major: major ?? '', minor: minor ?? '', patch: patch ?? '' }, 1);
}

function openFiles(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null; // not Linux
  }
}

function exposition(metric: MetricSnapshot): string {
  let text = `# HELP ${metric.name} ${escapeHelp(metric.help)}\n# TYPE ${metric.name} ${metric.type}\n`;
  for (const sample of metric.values) {
    const pairs = Object.entries(sample.labels).map(([name, value]) => `${name}="${escapeLabel(String(value))}"`);
    text += `${sample.metricName ?? metric.name}${pairs.length === 0 ? '' : `{${pairs.join(',')}}`} ${formatValue(sample.value)}\n`;
  }
  return text;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
