/**
 * fleet-serial-port's saved-flow migrations. Version 0 (no configVersion: a flow written by hand)
 * may leave out the line settings; version 1 writes their defaults (115200 8N1, 4096-byte lines).
 */
import { DEFAULT_BAUD } from '../../lib/serial/config';
import { DEFAULT_LINE_MAX_BYTES } from '../../lib/serial/line-splitter';
import type { Migration } from '../shared/migrations';

export const FLEET_SERIAL_PORT_VERSION = 1;

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => ({
      ...def,
      baudRate: absent(def.baudRate) ? DEFAULT_BAUD : def.baudRate,
      dataBits: absent(def.dataBits) ? 8 : def.dataBits,
      parity: absent(def.parity) ? 'none' : def.parity,
      stopBits: absent(def.stopBits) ? 1 : def.stopBits,
      lineMaxBytes: absent(def.lineMaxBytes) ? DEFAULT_LINE_MAX_BYTES : def.lineMaxBytes,
    }),
  },
];
