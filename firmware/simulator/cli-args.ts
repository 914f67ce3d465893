/** The esp32-fleet-sim command line: its usage and the options it turns into a fleet. */
import { parseArgs } from 'node:util';

import { SIM_FAULT_ALL, simFaultTopic } from '../contract/topics';
import type { FleetOptions } from './fleet';

export const FLEET_USAGE = `usage: esp32-fleet-sim [--broker mqtt://127.0.0.1:1883] [--devices 50] [--seed 1] [--speed 1]
                       [--connection per-device|shared] [--control] [--qos 0|1]
  --speed 10     every interval ten times shorter than the deployment guides' (sensor every 3 s)
  --control      obey ${simFaultTopic(`{device|${SIM_FAULT_ALL}}`)} messages: {"fault":"low-heap","action":"inject","durationS":60}
                 ({"action":"clear"} clears every fault)`;

export type FleetArgs =
  | { readonly ok: true; readonly help: true }
  | { readonly ok: true; readonly help: false; readonly options: FleetOptions & { readonly devices: number } }
  | { readonly ok: false; readonly usage: string };

/** Reads the command line; a bad value gives the usage instead of a fleet. */
export function parseFleetArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): FleetArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        broker: { type: 'string', default: env.FLEET_MQTT_URL ?? 'mqtt://127.0.0.1:1883' },
        devices: { type: 'string', default: '50' },
        seed: { type: 'string', default: '1' },
        speed: { type: 'string', default: '1' },
        connection: { type: 'string', default: 'per-device' },
        control: { type: 'boolean', default: false },
        qos: { type: 'string', default: '0' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch {
    return { ok: false, usage: FLEET_USAGE };
  }
  if (values.help) return { ok: true, help: true };
  const devices = Number(values.devices);
  const speed = Number(values.speed);
  const connection = values.connection === 'per-device' || values.connection === 'shared' ? values.connection : null;
  if (!Number.isInteger(devices) || devices < 1 || !(speed > 0) || connection === null) return { ok: false, usage: FLEET_USAGE };
  return {
    ok: true, help: false,
    options: { brokerUrl: values.broker, devices, seed: Number(values.seed), speed, connection, controlTopic: values.control, qos: values.qos === '1' ? 1 : 0 },
  };
}
