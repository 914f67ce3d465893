/**
 * fleet-serial-port's saved-flow migrations. Version 0 (no configVersion: a flow written by hand)
 * may leave out the line settings; version 1 writes their defaults (115200 8N1, 4096-byte lines).
 */
import { DEFAULT_BAUD } from '../../lib/serial/config';
import { DEFAULT_LINE_MAX_BYTES } from '../../lib/serial/line-splitter';
import { fillAbsent, type Migration } from '../shared/migrations';

export const FLEET_SERIAL_PORT_VERSION = 1;

export const migrations: readonly Migration[] = [
  fillAbsent({
    baudRate: DEFAULT_BAUD,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    lineMaxBytes: DEFAULT_LINE_MAX_BYTES,
  }),
];
