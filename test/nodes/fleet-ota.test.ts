/**
 * fleet-ota in the test helper: start, progress, the health gate, pause/resume, abort, the HTTP
 * download with its token and Range, and a redeploy that resumes from the journal without re-sending.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';
import type { NodeAPI } from 'node-red';

import otaNode = require('../../nodes/fleet-ota/fleet-ota');
import { generateSigningKey } from '../../lib/ota/keys';
import { signImage } from '../../lib/ota/manifest';
import { ImageRepository } from '../../lib/ota/repository';
import { trustedKeys } from '../../lib/ota/keys';
import { collect, type Msg } from '../support/collect';
import { waitFor } from '../support/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

const until = <T>(what: string, probe: () => T | undefined | null | false, ms = 6000): Promise<T> => waitFor(what, probe, ms, 20);
const SECRET = 'a-test-secret-of-enough-bytes';

let nodeApp: http.RequestListener | null = null;
const grabHttp = (RED: NodeAPI): void => { nodeApp = RED.httpNode as unknown as http.RequestListener; };

describe('fleet-ota node', function () {
  this.timeout(20_000);
  let dir: string;
  let keys: ReturnType<typeof generateSigningKey>;
  let image: Buffer;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-ota-node-'));
    keys = generateSigningKey();
    image = Buffer.alloc(100_000);
    for (let i = 0; i < image.length; i++) image[i] = (i * 31) & 0xff;
    const repo = new ImageRepository(path.join(dir, 'images'), trustedKeys([keys.publicPem]).keys);
    const r = repo.add('env-1.3.0', image, signImage(image, createPrivateKey(keys.privatePem), { version: '1.3.0', kind: 'env-sensor' }));
    assert.ok(r.ok);
  });
  beforeEach(() => { process.env.FLEET_STATE_DIR = fs.mkdtempSync(path.join(dir, 'state-')); });
  afterEach(async () => { await helper.unload(); });
  after(() => { delete process.env.FLEET_STATE_DIR; fs.rmSync(dir, { recursive: true, force: true }); });

  const flow = (plan: Record<string, unknown> = {}) => [
    { id: 'f1', type: 'tab', label: 'test' },
    {
      id: 'ota', type: 'fleet-ota', z: 'f1', folder: path.join(dir, 'images'), publicKeys: keys.publicPem, baseUrl: 'http://127.0.0.1:1880', tickMs: 30,
      plan: JSON.stringify({ waves: [50, 100], concurrency: 2, deviceTimeoutSeconds: 30, healthGate: { windowSeconds: 0.2, margin: 10 }, ...plan }),
      wires: [['cmd'], ['dev'], ['sum'], ['alerts']],
    },
    { id: 'cmd', type: 'helper', z: 'f1' },
    { id: 'dev', type: 'helper', z: 'f1' },
    { id: 'sum', type: 'helper', z: 'f1' },
    { id: 'alerts', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
  const creds = { ota: { secret: SECRET } };

  async function load(plan?: Record<string, unknown>) {
    await helper.load([otaNode, catchNode, grabHttp], flow(plan), creds);
    const n = (id: string) => helper.getNode(id);
    return { ota: n('ota'), cmd: collect(n('cmd')), dev: collect(n('dev')), sum: collect(n('sum')), alerts: collect(n('alerts')), caught: collect(n('caught')) };
  }
  const jobOf = (m: Msg): string => (m.payload as { job_id: string }).job_id;
  const devOf = (m: Msg): string => String(m.topic).split('/')[2];
  const start = { topic: 'start', payload: { id: 'r1', image: 'env-1.3.0', targets: ['d1', 'd2', 'd3', 'd4'] } };
  const report = (device: string, job: string, state: string, extra: Record<string, unknown> = {}) => ({ topic: `ota/progress/${device}`, payload: { job_id: job, state, ...extra } });

  it('starts a rollout: commands for the first wave, at most `concurrency` at once, each with a token URL', async () => {
    const t = await load();
    t.ota.receive(start);
    await until('two commands', () => t.cmd.length >= 2);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(t.cmd.length, 2);
    for (const m of t.cmd) {
      assert.match(String(m.topic), /^ota\/update\/d\d$/);
      const p = m.payload as { url: string; firmware_version: string; size: number; job_id: string };
      assert.equal(p.firmware_version, '1.3.0');
      assert.equal(p.size, image.length);
      assert.equal(p.job_id, 'r1-a1');
      assert.match(p.url, /^http:\/\/127\.0\.0\.1:1880\/fleet\/ota\/firmware\/env-1\.3\.0\?device=d\d&token=v1\./);
    }
    assert.ok(t.sum.some((m) => (m.payload as { status: string }).status === 'running'));
  });

  it('follows progress through the health gate into the next wave, and completes', async () => {
    const t = await load();
    t.ota.receive(start);
    await until('wave 1', () => t.cmd.length >= 2);
    for (const m of t.cmd.slice(0, 2)) {
      t.ota.receive(report(devOf(m), jobOf(m), 'DOWNLOADING', { progress: 40 }));
      t.ota.receive(report(devOf(m), jobOf(m), 'UPDATED', { firmware_version: '1.3.0' }));
    }
    await until('wave 2 commands', () => t.cmd.length >= 4);
    const wave1 = new Set(t.cmd.slice(0, 2).map(devOf));
    assert.ok(t.cmd.slice(2).every((m) => !wave1.has(devOf(m))), 'wave 2 goes to other devices');
    assert.ok(t.dev.some((m) => (m.payload as { to: string; percent: number | null }).to === 'DOWNLOADING' && (m.payload as { percent: number }).percent === 40));
    for (const m of t.cmd.slice(2)) t.ota.receive(report(devOf(m), jobOf(m), 'UPDATED', { firmware_version: '1.3.0' }));
    await until('completed', () => t.sum.find((m) => (m.payload as { status: string }).status === 'completed'));
    const last = t.sum.at(-1)?.payload as { totals: { succeeded: number } };
    assert.equal(last.totals.succeeded, 4);
    assert.equal(t.alerts.length, 0);
  });

  it('fails a device that goes critical within the health window, and alerts', async () => {
    const t = await load({ healthGate: { windowSeconds: 30, margin: 10 }, retries: 0 });
    t.ota.receive(start);
    await until('wave 1', () => t.cmd.length >= 2);
    const m = t.cmd[0];
    t.ota.receive(report(devOf(m), jobOf(m), 'UPDATED', { firmware_version: '1.3.0' }));
    t.ota.receive({ topic: `health/${devOf(m)}`, payload: { device: devOf(m), previous: 'healthy', state: 'critical', score: 20 } });
    const a = await until('an alert', () => t.alerts[0]);
    assert.equal((a.payload as { name: string }).name, 'OtaDeviceFailed');
    assert.equal((a.payload as { device: string }).device, devOf(m));
    assert.ok(t.dev.some((x) => (x.payload as { device: string; to: string }).device === devOf(m) && (x.payload as { to: string }).to === 'FAILED'));
  });

  it('pause sends nothing new; resume goes on; abort cancels devices in flight and alerts', async () => {
    const t = await load();
    t.ota.receive(start);
    await until('wave 1', () => t.cmd.length >= 2);
    t.ota.receive({ topic: 'pause' });
    for (const m of t.cmd.slice(0, 2)) t.ota.receive(report(devOf(m), jobOf(m), 'UPDATED', { firmware_version: '1.3.0' }));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(t.cmd.length, 2, 'no command while paused');
    t.ota.receive({ topic: 'resume' });
    await until('wave 2 after resume', () => t.cmd.length >= 4);
    t.ota.receive({ topic: 'abort', payload: { reason: 'emergency stop' } });
    const a = await until('abort alert', () => t.alerts.find((x) => (x.payload as { name: string }).name === 'OtaRolloutAborted'));
    assert.match((a.payload as { summary: string }).summary, /emergency stop/);
    const cancels = t.cmd.filter((m) => String(m.topic).startsWith('ota/cancel/'));
    assert.equal(cancels.length, 2);
    assert.deepEqual(cancels.map(devOf).sort(), t.cmd.slice(2, 4).map(devOf).sort());
    // An aborted rollout never starts again, not even under its id.
    t.ota.receive(start);
    const err = await until('refusal', () => t.caught[0]);
    assert.match(String((err.error as { message: string }).message), /already ran/);
  });

  it('times out a silent device, retries it as a new attempt, then counts it failed', async () => {
    const t = await load({ deviceTimeoutSeconds: 0.15, retries: 1, waves: [100], concurrency: 1 });
    t.ota.receive({ topic: 'start', payload: { id: 'r2', image: 'env-1.3.0', targets: ['d1'] } });
    await until('retry', () => t.cmd.length >= 2);
    assert.deepEqual(t.cmd.map(jobOf), ['r2-a1', 'r2-a2']);
    const a = await until('failed alert', () => t.alerts[0]);
    assert.equal((a.payload as { details: { phase: string } }).details.phase, 'TIMED_OUT');
  });

  it('serves the image only for the right token, with Range', async () => {
    const t = await load();
    t.ota.receive(start);
    await until('wave 1', () => t.cmd.length >= 2);
    const server = http.createServer(nodeApp as http.RequestListener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const cmd = t.cmd[0].payload as { url: string };
      const url = new URL(cmd.url);
      const local = `http://127.0.0.1:${port}${url.pathname}${url.search}`;
      const full = await fetch(local);
      assert.equal(full.status, 200);
      assert.deepEqual(Buffer.from(await full.arrayBuffer()), image);
      const part = await fetch(local, { headers: { Range: 'bytes=1000-1999' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${image.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), image.subarray(1000, 2000));
      const other = new URL(local);
      other.searchParams.set('device', other.searchParams.get('device') === 'd1' ? 'd2' : 'd1');
      assert.equal((await fetch(other)).status, 403, "another device's token");
      const forged = new URL(local);
      forged.searchParams.set('token', 'v1.ZDE.ZW52.9999999999.AAAA');
      assert.equal((await fetch(forged)).status, 401);
      assert.equal((await fetch(`http://127.0.0.1:${port}/fleet/ota/firmware/..%2F..%2Fetc%2Fpasswd?device=d1&token=x`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${port}/fleet/ota/firmware/`)).status, 404, 'no listing');
      const version = await (await fetch(`http://127.0.0.1:${port}/fleet/ota/version?device=${devOf(t.cmd[0])}`)).json() as { update: boolean; version: string };
      assert.deepEqual([version.update, version.version], [true, '1.3.0']);
      const report1 = await fetch(`http://127.0.0.1:${port}/fleet/ota/status`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ device: devOf(t.cmd[0]), job_id: 'r1-a1', state: 'DOWNLOADING', progress: 10 }) });
      assert.equal(report1.status, 202);
      await until('progress from HTTP', () => t.dev.find((m) => (m.payload as { to: string }).to === 'DOWNLOADING'));
      t.ota.receive({ topic: 'status' });
      const s = await until('status', () => t.sum.find((m) => m.topic === 'fleet-ota/status'));
      assert.deepEqual([(s.refusals as { unauthorized: number }).unauthorized, (s.refusals as { forbidden: number }).forbidden], [1, 1]);
    } finally {
      server.close();
    }
  });

  it('a redeploy resumes from the journal: no command re-sent, the rollout goes on', async () => {
    let t = await load();
    t.ota.receive(start);
    await until('wave 1', () => t.cmd.length >= 2);
    const first = t.cmd.map((m) => `${devOf(m)}/${jobOf(m)}`);
    await helper.unload();
    t = await load();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.cmd.length, 0, 'nothing sent again after the restart');
    for (const id of first) { const [d, j] = id.split('/'); t.ota.receive(report(d, j, 'UPDATED', { firmware_version: '1.3.0' })); }
    await until('wave 2', () => t.cmd.length >= 2);
    const second = t.cmd.map((m) => `${devOf(m)}/${jobOf(m)}`);
    assert.equal(new Set([...first, ...second]).size, 4);
  });

  it('refuses a bad start with a catchable error naming the field', async () => {
    const t = await load();
    t.ota.receive({ topic: 'start', payload: { image: 'env-1.3.0', targets: 'all', plan: { waves: [60, 50] } } });
    const e = await until('error', () => t.caught[0]);
    assert.match(String((e.error as { message: string }).message), /plan\.waves/);
    t.ota.receive({ topic: 'start', payload: { image: '../x', targets: 'all' } });
    await until('second error', () => t.caught[1]);
  });
});
