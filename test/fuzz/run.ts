/**
 * `npm run fuzz`: a million generated inputs per parser (bounded in time), then one table.
 *   node dist/test/fuzz/run.js [--count N] [--seconds S] [--seed N] [--only NAME[,NAME]]
 * Exits 1 when any parser threw or broke its contract, or an input (re-timed) took over 10 ms.
 */
import { loadTargets, runTarget, type FuzzReport } from './harness';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const count = Number(arg('count', '1000000'));
const seconds = Number(arg('seconds', '240'));
const seed = Number(arg('seed', String(Date.now() % 1_000_000)));
const only = arg('only', '').split(',').filter(Boolean);

const targets = loadTargets().filter((t) => only.length === 0 || only.includes(t.name));
console.log(`fuzz: ${targets.length} parsers, ${count.toLocaleString('en')} inputs each (at most ${seconds} s each), seed ${seed}`);
const reports: FuzzReport[] = [];
for (const t of targets) {
  const r = runTarget(t, { count, seed, maxSeconds: seconds });
  reports.push(r);
  console.log(`  ${r.name.padEnd(22)} ${r.runs.toLocaleString('en').padStart(10)} inputs  ${String(r.throws).padStart(4)} throws  ${String(r.violations).padStart(4)} violations  slowest ${r.slowestMs.toFixed(2).padStart(6)} ms (worst run ${r.worstRunMs.toFixed(1)} ms)  heap ${(r.heapGrowthBytes / 1048576).toFixed(1).padStart(6)} MiB  ${r.seconds.toFixed(1)} s${r.cutShort ? '  (time limit)' : ''}`);
  for (const e of r.examples) console.log(`      ${e}`);
  if (r.slowestMs > 10) console.log(`      slowest input: ${r.slowestInput}`);
}
const bad = reports.filter((r) => r.throws > 0 || r.violations > 0);
const slow = reports.filter((r) => r.slowestMs > 10);
console.log(bad.length === 0 ? 'fuzz: no throws, no contract violations' : `fuzz: ${bad.map((r) => r.name).join(', ')} failed`);
console.log(slow.length === 0 ? 'fuzz: no input over 10 ms (re-timed: the fastest of 5 runs of the slowest inputs)' : `fuzz: inputs over 10 ms in ${slow.map((r) => r.name).join(', ')}`);
process.exitCode = bad.length === 0 && slow.length === 0 ? 0 : 1;
