#!/usr/bin/env node
/** esp32-fleet-sim: runs a virtual fleet against a broker until interrupted. */
import { parseArgs } from 'node:util';

import { VirtualFleet } from './fleet';

const USAGE = `usage: esp32-fleet-sim [--broker mqtt://127.0.0.1:1883] [--devices 50] [--seed 1] [--speed 1]
                       [--connection per-device|shared] [--control] [--qos 0|1]
  --speed 10     every interval ten times shorter than the deployment guides' (sensor every 3 s)
  --control      obey sim/fault/{device|all} messages: {"fault":"low-heap","action":"inject","durationS":60}
                 ({"action":"clear"} clears every fault)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      broker: { type: 'string', default: process.env.FLEET_MQTT_URL ?? 'mqtt://127.0.0.1:1883' },
      devices: { type: 'string', default: '50' },
      seed: { type: 'string', default: '1' },
      speed: { type: 'string', default: '1' },
      connection: { type: 'string', default: 'per-device' },
      control: { type: 'boolean', default: false },
      qos: { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const devices = Number(values.devices);
  const speed = Number(values.speed);
  if (!Number.isInteger(devices) || devices < 1 || !(speed > 0) || !['per-device', 'shared'].includes(values.connection)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const fleet = new VirtualFleet({
    brokerUrl: values.broker, devices, seed: Number(values.seed), speed,
    connection: values.connection as 'per-device' | 'shared', controlTopic: values.control, qos: values.qos === '1' ? 1 : 0,
  });
  await fleet.start();
  console.log(`virtual fleet: ${devices} devices publishing to ${values.broker} at ${speed}x`);
  const stop = (): void => { void fleet.stop().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`esp32-fleet-sim: ${err.message}`);
  process.exit(1);
});
