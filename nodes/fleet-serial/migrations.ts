/**
 * fleet-serial's saved-flow migrations. Version 0 (no configVersion: a flow written by hand) may leave
 * out the mode, the timeout and the secrets' environment variable names; version 1 writes their defaults.
 */
import { fillAbsent, type Migration } from '../shared/migrations';

export const FLEET_SERIAL_VERSION = 1;

export const migrations: readonly Migration[] = [
  fillAbsent({
    mode: 'console',
    timeoutS: 10,
    wifiPasswordEnv: 'FLEET_WIFI_PASSWORD',
    mqttPasswordEnv: 'FLEET_MQTT_PASSWORD',
  }),
];
