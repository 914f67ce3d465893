/**
 * The fuzz harness behind `npm run fuzz` (a million inputs per parser) and the fast slice in
 * `npm test`. A target says how to make inputs and what its parser promises for any of them; the
 * harness counts throws, contract violations, the slowest input and heap growth.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import fc from 'fast-check';

export interface FuzzTarget<T = unknown> {
  /** Short name printed in the table, e.g. `decoder-bytes`. */
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /**
   * Runs the parser on one input. Returns null when the outcome honours the parser's contract
   * (a value or a field error), else what was wrong. A throw is counted as a throw.
   */
  check(input: T): string | null;
}

export interface FuzzReport {
  readonly name: string;
  readonly runs: number;
  readonly throws: number;
  readonly violations: number;
  /** Up to five examples of throws and violations, for the report. */
  readonly examples: readonly string[];
  /**
   * The slowest input's own cost: the inputs slowest on their first run are run again, and each
   * keeps its fastest time, so a GC pause or a busy machine during one run is not charged to it.
   */
  readonly slowestMs: number;
  readonly slowestInput: string;
  /** The longest single run seen, pauses included. */
  readonly worstRunMs: number;
  readonly heapGrowthBytes: number;
  readonly seconds: number;
  /** True when maxSeconds stopped the run before `count`. */
  readonly cutShort: boolean;
}

export interface FuzzOptions {
  readonly count: number;
  readonly seed: number;
  readonly maxSeconds: number;
}

const BATCH = 2000;

export function describeInput(x: unknown): string {
  let s: string;
  try {
    s = Buffer.isBuffer(x) ? `Buffer<${x.toString('hex').slice(0, 120)}>` : fc.stringify(x);
  } catch {
    // An object with no prototype has no toString: fall back to its keys.
    try { s = String(x); } catch { s = `[object without prototype: ${Object.keys(x as object).join(', ')}]`; }
  }
  return s.length > 200 ? `${s.slice(0, 200)}… (${s.length} chars)` : s;
}

const gc = (): void => { (globalThis as { gc?: () => void }).gc?.(); };

export function runTarget<T>(target: FuzzTarget<T>, options: FuzzOptions): FuzzReport {
  let runs = 0;
  let throws = 0;
  let violations = 0;
  const examples: string[] = [];
  // The few inputs slowest on first run, kept for re-timing.
  const slow: Array<{ ms: number; input: T }> = [];
  const KEEP = 8;
  let worstRunMs = 0;
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + options.maxSeconds * 1000;
  let batchSeed = options.seed;
  let cutShort = false;
  while (runs < options.count) {
    if (Date.now() > deadline) { cutShort = true; break; }
    const inputs = fc.sample(target.arbitrary, { numRuns: Math.min(BATCH, options.count - runs), seed: batchSeed++ });
    for (const input of inputs) {
      const t0 = process.hrtime.bigint();
      let problem: string | null;
      let threw = false;
      try {
        problem = target.check(input);
      } catch (err) {
        threw = true;
        problem = `threw ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`;
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ms > worstRunMs) worstRunMs = ms;
      if (slow.length < KEEP || ms > slow[slow.length - 1].ms) {
        slow.push({ ms, input });
        slow.sort((a, b) => b.ms - a.ms);
        if (slow.length > KEEP) slow.pop();
      }
      if (problem !== null) {
        if (threw) throws++; else violations++;
        if (examples.length < 5) examples.push(`${problem} ← ${describeInput(input)}`);
      }
      runs++;
    }
  }
  gc();
  const heapGrowthBytes = process.memoryUsage().heapUsed - heapBefore;
  let slowestMs = 0;
  let slowestInput = '';
  for (const { input } of slow) {
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      try { target.check(input); } catch { /* counted on the first run */ }
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    if (best > slowestMs) { slowestMs = best; slowestInput = describeInput(input); }
  }
  return {
    name: target.name, runs, throws, violations, examples, slowestMs, slowestInput, worstRunMs, heapGrowthBytes,
    seconds: Number(process.hrtime.bigint() - started) / 1e9, cutShort,
  };
}

/** Every target under targets/ (compiled), in name order. */
export function loadTargets(): FuzzTarget[] {
  const dir = path.join(__dirname, 'targets');
  const out: FuzzTarget[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.js')).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(dir, f)) as { targets?: FuzzTarget[] };
    if (!Array.isArray(mod.targets)) throw new Error(`fuzz target file ${f} exports no \`targets\` list`);
    out.push(...mod.targets);
  }
  return out;
}
