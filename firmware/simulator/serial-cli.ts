#!/usr/bin/env node
/** esp32-fleet-sim-serial: one virtual device on a serial port (a pty), until interrupted. */
import { parseArgs } from 'node:util';

import { SerialDevice } from './serial-device';

const USAGE = `usage: esp32-fleet-sim-serial --port /tmp/fleet-dev [--id esp32-c3-unprovisioned] [--kind env-sensor|audio-device]
                              [--perf-ms 60000] [--seed 1] [--no-echo] [--unknown-ssid NAME]
  Make the port with: socat -d -d pty,raw,echo=0,link=/tmp/fleet-dev pty,raw,echo=0,link=/tmp/fleet-host
  and point fleet-serial-port at /tmp/fleet-host.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      id: { type: 'string', default: 'esp32-c3-unprovisioned' },
      kind: { type: 'string', default: 'env-sensor' },
      'perf-ms': { type: 'string', default: '60000' },
      seed: { type: 'string', default: '1' },
      'no-echo': { type: 'boolean', default: false },
      'unknown-ssid': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) { console.log(USAGE); return; }
  const perf = Number(values['perf-ms']);
  if (!values.port || !(perf >= 100) || (values.kind !== 'env-sensor' && values.kind !== 'audio-device')) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const device = new SerialDevice({
    path: values.port, factoryId: values.id, kind: values.kind, perfEveryMs: perf, seed: Number(values.seed),
    echo: !values['no-echo'], unknownSsids: values['unknown-ssid'],
  });
  device.on('provisioned', (c) => console.log(`provisioned as ${c.device_id}, broker ${c.broker}:${c.port}`));
  device.on('rejected', (r) => console.log(`provisioning rejected: ${r}`));
  device.on('online', (id) => console.log(`${id} publishing on MQTT`));
  await device.start();
  console.log(`virtual serial device ${values.id} on ${values.port}`);
  const stop = (): void => { void device.stop().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`esp32-fleet-sim-serial: ${err.message}`);
  process.exit(1);
});
