/**
 * fleet-serial's saved-flow migrations. Version 0 (no configVersion: a flow written by hand) may leave
 * out the mode, the timeout and the secrets' environment variable names; version 1 writes their defaults.
 */
import type { Migration } from '../shared/migrations';

export const FLEET_SERIAL_VERSION = 1;

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => ({
      ...def,
      mode: absent(def.mode) ? 'console' : def.mode,
      timeoutS: absent(def.timeoutS) ? 10 : def.timeoutS,
      wifiPasswordEnv: absent(def.wifiPasswordEnv) ? 'FLEET_WIFI_PASSWORD' : def.wifiPasswordEnv,
      mqttPasswordEnv: absent(def.mqttPasswordEnv) ? 'FLEET_MQTT_PASSWORD' : def.mqttPasswordEnv,
    }),
  },
];
