/** What a fleet-serial-port config node offers the nodes that use it. */
import type { PortSettings } from '../../lib/serial/config';
import type { Lease } from './pool';

export interface FleetSerialPortNode {
  readonly serialSettings: PortSettings;
  /** A lease on this port's connection, or on another path with this port's line settings (msg.port). */
  lease(path?: string): Lease;
}

export const isSerialPortNode = (n: unknown): n is FleetSerialPortNode =>
  typeof n === 'object' && n !== null && 'serialSettings' in n && typeof (n as { lease?: unknown }).lease === 'function';
