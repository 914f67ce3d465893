/**
 * One connection per port path in this Node-RED, however many nodes (and config nodes) use it:
 * leased on create, released on close; the last release closes the port.
 */
import { defaultFactory, SerialConnection, type PortFactory, type RetryPolicy } from '../../lib/serial/connection';
import type { PortSettings } from '../../lib/serial/config';

interface Entry { readonly connection: SerialConnection; refs: number }

const pool = new Map<string, Entry>();
let factory: PortFactory = defaultFactory;
let retry: RetryPolicy | undefined;

/** For tests: serialport's mock binding instead of the system's ports, and a faster back-off. */
export function usePortFactory(f: PortFactory | null, r?: RetryPolicy): void {
  factory = f ?? defaultFactory;
  retry = r;
}

export interface Lease {
  readonly connection: SerialConnection;
  release(): Promise<void>;
}

export function lease(settings: PortSettings): Lease {
  let entry = pool.get(settings.path);
  if (!entry) {
    entry = { connection: new SerialConnection(settings, factory, retry), refs: 0 };
    pool.set(settings.path, entry);
    entry.connection.start();
  }
  entry.refs++;
  const e = entry;
  let released = false;
  return {
    connection: e.connection,
    release: async () => {
      if (released) return;
      released = true;
      e.refs--;
      if (e.refs > 0) return;
      if (pool.get(settings.path) === e) pool.delete(settings.path);
      await e.connection.close();
    },
  };
}

export function openPaths(): string[] {
  return [...pool.keys()];
}
