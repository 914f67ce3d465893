/**
 * npm run bench: every figure in one table, ratios against baselines measured in the same run,
 * written to .bench-results/latest.json. Not part of npm test.
 *   --quick      fewer repeats, 10,000 instead of 100,000 devices, lower broker rates: a smoke run
 *   --no-broker  skip the end-to-end runs through Mosquitto and aedes
 *   --only a,b   only the sections whose names start with a or b (e.g. --only scale,broker: aedes)
 *   --million    the scale section also measures memory at 1,000,000 devices (about 1.5 GB, a minute)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { decodeFigures, flushFigures, healthFigures, memoryFigures, persistenceFigures, routingFigures, scaleFigures } from './domain';
import { table, type Figure } from './measure';
import { bestSustainedOfRun, brokerFigures, brokerTable, kneeOfRun, overloadFigures, type BrokerRow } from './broker';
import { pipelineFigures } from './pipeline';
import { healthPeriodicFigures } from './periodic';
import { healthCommitFigures } from './health-commit';
import { otaFigures } from './ota';
import { steelFigures } from './steel';
import { commandFigures } from './command';
import { otaRolloutFigures } from './ota-rollout';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const repeat = quick ? 3 : 5;
  const devices = quick ? 10_000 : 100_000;
  const figures: Figure[] = [];
  const brokerRows: BrokerRow[] = [];
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt > 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : null;
  const started = Date.now();
  const since = (): string => { const s = Math.round((Date.now() - started) / 1000); return `${Math.floor(s / 60)} min ${s % 60} s`; };
  const section = async (name: string, f: () => Figure[] | Promise<Figure[]>) => {
    if (only && !only.some((o) => name.startsWith(o))) return;
    process.stderr.write(`bench: ${name}… (at ${since()})\n`);
    figures.push(...(await f()));
  };
  await section('decode', () => decodeFigures(repeat));
  await section('health', () => healthFigures(repeat));
  await section('alerts', () => routingFigures(repeat));
  await section('scale', () => [
    ...scaleFigures(devices, repeat * 4),
    // Memory is measured at 100,000 devices even in a quick run; 1,000,000 on request.
    ...(devices < 100_000 ? memoryFigures(100_000) : []),
    ...(process.argv.includes('--million') ? memoryFigures(1_000_000) : []),
  ]);
  await section('periodic', async () => [...(await flushFigures(devices)), ...(await healthPeriodicFigures(devices)), ...(await healthCommitFigures(devices))]);
  await section('persistence', () => persistenceFigures(devices));
  await section('ota', () => otaFigures(repeat, devices));
  await section('steel', () => steelFigures(repeat));
  await section('command', () => commandFigures(repeat, quick ? 2_000 : 10_000));
  await section('ota: virtual rollout', () => otaRolloutFigures(quick ? 200 : 1000));
  await section('pipeline', () => pipelineFigures(repeat, quick ? 50_000 : 100_000));
  if (!process.argv.includes('--no-broker')) {
    // Each rate 3 times into each of three flows, per broker: 72 runs of 3 s (plus start-up and
    // drain). Until 2026-12-04 the rates were 5,000 / 9,000 / 10,000 / 20,000 (9,000 was 90 % of
    // ours' knee then); once ours' p99 stayed under 50 ms at 10,000, both ours' and the ceiling's
    // knee fell on the 20,000 step, so 15,000 takes 9,000's place to tell them apart.
    const rates = quick ? [2_000, 10_000] : [5_000, 10_000, 15_000, 20_000];
    const reps = quick ? 1 : 3;
    await section('broker: mosquitto', () => brokerFigures('mosquitto', rates, quick ? 2 : 3, reps, brokerRows));
    await section('broker: aedes', () => brokerFigures('aedes', quick ? [2_000] : rates, quick ? 2 : 3, reps, brokerRows));
    // Twice ours' knee of this run (10,000 msg/s, the knee of the last full runs, when the broker
    // section did not run), 30 s, then the recovery. Above ours' throughput the backlog left at the
    // end drains at (throughput − the tail's rate), so the tail is made long enough to see that
    // happen: (offer − best sustained) × 30 s ÷ (best sustained − 1,000) and 6 s more, 25–60 s.
    let keptUp = false;
    for (const b of ['mosquitto', 'aedes'] as const) {
      const knee = quick ? null : kneeOfRun(brokerRows, b);
      const whence = quick ? '2× the quick rate' : knee !== null ? '2× the knee of this run' : '2× 10,000, the knee of the last full runs';
      const rate = 2 * (quick ? 2_000 : knee ?? 10_000);
      const best = quick ? null : bestSustainedOfRun(brokerRows, b);
      const drain = best !== null && rate > best ? ((rate - best) * 30) / Math.max(1_000, best - 1_000) : 0;
      const tail = quick ? 15 : Math.min(60, Math.max(25, Math.ceil(drain + 6)));
      const seen = { keptUp: false };
      await section(`overload: ${b}`, () => overloadFigures(b, rate, quick ? 10 : 30, tail, whence, 'no-loss', 10_000, seen));
      keptUp ||= seen.keptUp;
    }
    // When ours keeps up at 2× its knee, PipelineOverloaded rightly stays silent there; then this run
    // offers 1.3× ours' best sustained rate through Mosquitto (20,000 when the broker section did
    // not run), so the lag does build, for 20 s, and the alert has to fire and then resolve. When a
    // run above fell behind, the alert's firing and resolving is in its figures already.
    const best = quick ? null : bestSustainedOfRun(brokerRows, 'mosquitto');
    const above = Math.ceil((1.3 * (best ?? 20_000)) / 1000) * 1000;
    const aboveWhence = best !== null ? "1.3× ours' best sustained in this run" : "1.3× 20,000, about ours' best sustained in the last full runs";
    const overloadRan = !only || only.some((o) => 'overload: mosquitto'.startsWith(o) || 'overload: aedes'.startsWith(o));
    // Not in a quick run: its 4,000 msg/s is below ours' throughput, so the alert could not fire.
    if (!quick && (keptUp || !overloadRan)) await section('overload: alert', () => overloadFigures('mosquitto', above, 20, 30, aboveWhence, 'alert'));
  }

  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\nESP32 fleet benchmarks — ${machine}${quick ? ' (quick)' : ''}, ${since()}\n`);
  console.log(table(figures));
  if (brokerRows.length) console.log(`\nbroker runs, medians (min–max) of the repeats; loop delay, GC, CPU and RSS inside the Node-RED process\n\n${brokerTable(brokerRows)}`);
  const dir = path.resolve(__dirname, '..', '..', '.bench-results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify({ at: new Date().toISOString(), machine, quick, figures, brokerRows }, null, 2));
  console.log(`\nwritten to .bench-results/latest.json`);
  process.exit(0);
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
