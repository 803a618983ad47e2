// Preloaded into a Gatehouse process (`node --import bench/lib/heap-peaks.mjs …`) by the
// experiments: every 100 ms it reads the RSS split (/proc/self/status) and V8's heap spaces,
// and when the process ends writes, to HEAP_PEAKS_FILE, the reading taken at the highest RSS
// and the highest physical size of each heap space: what the peak is made of. It also counts
// garbage collections by kind, with their total and longest pause (perf_hooks 'gc' entries).
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const out = process.env.HEAP_PEAKS_FILE;
if (out) {
  const MB = 2 ** 20;
  const spaces = {};
  let atPeak = null;
  const read = () => {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024;
    const heap = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size / MB]));
    for (const [name, size] of Object.entries(heap)) spaces[name] = Math.max(spaces[name] ?? 0, size);
    const reading = { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), heapPhysical: getHeapStatistics().total_physical_size / MB, mallocedV8: getHeapStatistics().malloced_memory / MB, heap };
    if (atPeak === null || reading.rss > atPeak.rss) atPeak = reading;
  };
  setInterval(read, 100).unref();
  const KINDS = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
  const gc = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KINDS[entry.detail?.kind] ?? 'other';
      const g = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      g.count += 1;
      g.totalMs += entry.duration;
      g.maxMs = Math.max(g.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  const write = () => writeFileSync(out, JSON.stringify({ atPeak, maxPerSpace: spaces, gc }, null, 1));
  process.on('exit', write);
  for (const signal of ['SIGTERM', 'SIGINT']) process.prependListener(signal, write);
}
