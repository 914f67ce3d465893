/** Timing and memory helpers: repeated runs, medians with min–max, ratios taken in the same run. */
import { PerformanceObserver, performance } from 'node:perf_hooks';

export interface Figure {
  readonly section: string;
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Against the baseline named, measured in the same run. */
  readonly ratio?: { readonly to: string; readonly value: number };
  readonly target?: string;
  readonly met?: boolean;
}

export function stats(samples: number[]): { median: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

/** Runs `fn` `repeat` times, each over `n` operations; returns operations per second per run. */
export function rate(n: number, repeat: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t = process.hrtime.bigint();
    fn();
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    out.push(n / s);
  }
  return out;
}

export function millis(repeat: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

/**
 * Runs `fn` while a setImmediate ticker watches the event loop: returns the longest gap between two
 * ticks in ms, i.e. the longest stretch `fn` (or anything else) held the loop without yielding.
 */
export async function longestBlock(fn: () => Promise<unknown>): Promise<number> {
  let last = process.hrtime.bigint();
  let worst = 0n;
  let running = true;
  const tick = (): void => {
    const now = process.hrtime.bigint();
    if (now - last > worst) worst = now - last;
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  last = process.hrtime.bigint();
  await fn();
  tick();
  running = false;
  return Number(worst) / 1e6;
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run the benchmarks with node --expose-gc (npm run bench does)');
  g();
  g();
}

export function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Heap after GC plus the typed-array stores outside it (what an ArrayBuffer holds is not heap). */
export function memoryUsed(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export function figure(section: string, name: string, unit: string, samples: number[], extra: Partial<Figure> = {}): Figure {
  return { section, name, unit, ...stats(samples), ...extra };
}

const fmt = (x: number): string => (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function table(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.section, f.name, `${fmt(f.median)} ${f.unit}`, `${fmt(f.min)}–${fmt(f.max)}`,
    f.ratio ? `${f.ratio.value.toFixed(2)}× ${f.ratio.to}` : '',
    f.target ? `${f.target} ${f.met === undefined ? '' : f.met ? '✓' : '✗'}` : '',
  ]);
  const head = ['section', 'measure', 'median', 'min–max', 'ratio', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Callbacks timed with when they began, on performance.now's clock (to lay GC pauses over them). */
export class Holds {
  readonly spans: Array<readonly [start: number, ms: number]> = [];

  /** Runs `f`, recording when it began and how long it ran. */
  time(f: () => void): void {
    const start = performance.now();
    try { f(); } finally { this.spans.push([start, performance.now() - start]); }
  }

  get ms(): number[] {
    return this.spans.map((s) => s[1]);
  }
}

/** The GC pauses V8 reports from now until `stop()` (start and duration, ms on performance.now's clock). */
export function watchGc(): { stop: () => Promise<Array<readonly [start: number, ms: number]>> } {
  const pauses: Array<readonly [number, number]> = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) pauses.push([e.startTime, e.duration]); });
  obs.observe({ entryTypes: ['gc'] });
  return {
    // Entries arrive on a later turn: wait one before looking.
    stop: async () => { await new Promise((r) => setTimeout(r, 50)); obs.disconnect(); return pauses; },
  };
}

/**
 * What of the callbacks' tail is GC: each callback less the GC pauses overlapping it, and how many
 * ran over `limit` ms with and without one inside. For the bench table's labels.
 */
export function gcShare(holds: Holds, pauses: ReadonlyArray<readonly [number, number]>, limit = 10): string {
  const net: number[] = [];
  let over = 0;
  let overWithGc = 0;
  for (const [start, ms] of holds.spans) {
    let inGc = 0;
    for (const [gs, gd] of pauses) inGc += Math.max(0, Math.min(start + ms, gs + gd) - Math.max(start, gs));
    net.push(ms - inGc);
    if (ms > limit) { over++; if (inGc > 0) overWithGc++; }
  }
  const s = [...net].sort((a, b) => a - b);
  const p99 = s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
  return `${over} over ${limit} ms, ${overWithGc} of them with a GC pause inside; less the GC pauses: p99 ${p99.toFixed(1)} ms, longest ${s[s.length - 1].toFixed(1)} ms`;
}
