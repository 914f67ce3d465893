/** Real MQTT brokers for end-to-end tests: aedes in this process, Mosquitto as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { Aedes } from 'aedes';

import { freePort, waitFor } from './ports';

export interface Broker {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startAedes(): Promise<Broker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    name: 'aedes',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    close: async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export function mosquittoBinary(): string {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) if (fs.existsSync(p)) return p;
  throw new Error('mosquitto is not installed: npm test installs it with apt-get (scripts/pretest.sh), or run apt-get install mosquitto');
}

const canConnect = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

/** `extra`: more mosquitto.conf lines (the benchmarks' settings). */
export async function startMosquitto(extra: readonly string[] = []): Promise<Broker> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'max_queued_messages 100000', ...extra, ''].join('\n'));
  const child: ChildProcess = spawn(mosquittoBinary(), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(`mosquitto on port ${port} (${stderr})`, () => canConnect(port), 10_000);
  return {
    name: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
