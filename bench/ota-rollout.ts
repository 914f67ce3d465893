/**
 * A 1,000-device virtual rollout end to end, with compressed waits: the controller on a journal
 * synced per commit, downloads over HTTP with tokens and Range, the devices' OTA side over MQTT
 * (test/support/ota-rig.ts). Wall time from the start message to the last wave passing its gate.
 */
import { runRollout } from '../test/support/ota-rig';
import { figure, type Figure } from './measure';

export async function otaRolloutFigures(devices = 1000, runs = 1): Promise<Figure[]> {
  const wall: number[] = [];
  let last: Awaited<ReturnType<typeof runRollout>> | null = null;
  for (let i = 0; i < runs; i++) {
    last = await runRollout({
      devices, imageBytes: 64 * 1024, stepMs: 2, tickMs: 20, timeoutMs: 300_000,
      plan: { waves: [10, 50, 100], concurrency: 50, soakSeconds: 0.05, deviceTimeoutSeconds: 60, healthGate: { windowSeconds: 0.05, margin: 10 } },
    });
    if (last.summary.status !== 'completed' || last.summary.totals.succeeded !== devices) throw new Error(`rollout ended ${last.summary.status} with ${last.summary.totals.succeeded} of ${devices} updated`);
    wall.push(last.wallMs);
  }
  const s = last as NonNullable<typeof last>;
  return [
    figure('ota', `virtual rollout of ${devices} devices, 3 waves, 50 at a time, 64 KiB image (wall)`, 's', wall.map((ms) => ms / 1000)),
    figure('ota', `  devices updated per second in that rollout`, '/s', wall.map((ms) => devices / (ms / 1000))),
    figure('ota', `  journal size after the rollout`, 'KiB', [s.journalBytes / 1024]),
  ];
}

if (require.main === module) {
  otaRolloutFigures(Number(process.argv[2] ?? 1000)).then((f) => { console.log(JSON.stringify(f, null, 2)); process.exit(0); }, (err: unknown) => { console.error(err); process.exit(1); });
}
