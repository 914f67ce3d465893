/**
 * The machine's serial ports for the editor's picker. On Linux serialport's list() runs `udevadm`;
 * where it is missing (containers, minimal images) the spawn error surfaces asynchronously and would
 * kill the process, so udevadm is looked up first and /dev is read instead when it is absent.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface PortInfo {
  readonly path: string;
  readonly manufacturer: string | null;
  readonly serialNumber: string | null;
  readonly vendorId: string | null;
  readonly productId: string | null;
  readonly source: 'serialport' | 'dev';
}

const DEV_PATTERNS = [/^ttyUSB\d+$/, /^ttyACM\d+$/, /^ttyS\d+$/, /^ttyAMA\d+$/, /^cu\..+$/, /^tty\.usb.+$/, /^rfcomm\d+$/];

export function onPath(binary: string, envPath = process.env.PATH ?? ''): boolean {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, binary), fs.constants.X_OK);
      return true;
    } catch { /* not in this directory */ }
  }
  return false;
}

/** Device files that look like serial ports, and pseudo-terminals (what socat and simulators make). */
export function listDevFiles(dev = '/dev'): PortInfo[] {
  const found: string[] = [];
  const read = (dir: string): string[] => { try { return fs.readdirSync(dir); } catch { return []; } };
  for (const f of read(dev)) if (DEV_PATTERNS.some((p) => p.test(f))) found.push(path.join(dev, f));
  for (const f of read(path.join(dev, 'pts'))) if (/^\d+$/.test(f)) found.push(path.join(dev, 'pts', f));
  for (const f of read(path.join(dev, 'serial', 'by-id'))) found.push(path.join(dev, 'serial', 'by-id', f));
  return found.sort().map((p) => ({ path: p, manufacturer: null, serialNumber: null, vendorId: null, productId: null, source: 'dev' }));
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export async function listPorts(platform: NodeJS.Platform = process.platform, hasUdevadm: () => boolean = () => onPath('udevadm')): Promise<PortInfo[]> {
  if (platform === 'linux' && !hasUdevadm()) return listDevFiles();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialPort } = require('serialport') as typeof import('serialport');
    const ports = await SerialPort.list();
    return ports.map((p) => ({ path: p.path, manufacturer: str(p.manufacturer), serialNumber: str(p.serialNumber), vendorId: str(p.vendorId), productId: str(p.productId), source: 'serialport' as const }));
  } catch {
    return platform === 'win32' ? [] : listDevFiles();
  }
}
