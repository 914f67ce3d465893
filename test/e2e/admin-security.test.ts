/**
 * The editor, admin API and dashboard under `npm start` (issue 9, item 5): no cross-origin access,
 * loopback Host names only (DNS rebinding), and adminAuth from the environment. Real `npm start`
 * processes on free ports; requests made with node:http so the Host and Origin headers are ours.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { freePort, waitFor } from '../support/ports';

const root = path.resolve(__dirname, '..', '..', '..');

interface Started { child: ChildProcess; port: number; userDir: string; output: () => string }

async function npmStart(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const mqttPort = await freePort();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-sec-'));
  let output = '';
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
    cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), FLEET_MQTT_PORT: String(mqttPort), FLEET_USER_DIR: userDir, FLEET_DEVICES: '3', ...env },
  });
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  return { child, port, userDir, output: () => output };
}

async function stop(s: Started | undefined): Promise<void> {
  if (!s) return;
  if (s.child.pid && s.child.exitCode === null) {
    const exited = new Promise((r) => s.child.once('exit', r));
    process.kill(-s.child.pid, 'SIGINT');
    const t = setTimeout(() => { if (s.child.pid) process.kill(-s.child.pid, 'SIGKILL'); }, 10_000);
    await exited;
    clearTimeout(t);
  }
  fs.rmSync(s.userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string; upgraded: boolean }

function request(port: number, method: string, pathname: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, upgraded: false }));
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '', upgraded: true }); });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const corsHeaders = (h: http.IncomingHttpHeaders): string[] => Object.keys(h).filter((k) => k.startsWith('access-control-'));

describe('npm start: the editor and admin API stay on loopback', function () {
  this.timeout(90_000);
  let open: Started | undefined;
  let locked: Started | undefined;
  const loopback = (port: number) => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];

  before(async () => {
    // Both at once: two Node-RED starts in parallel instead of one after the other.
    [open, locked] = await Promise.all([npmStart({}), npmStart({ FLEET_ADMIN_USER: 'admin', FLEET_ADMIN_PASSWORD: 'test-only-password' })]);
    await Promise.all([open, locked].map((s) => waitFor(`Node-RED to start\n${s!.output()}`, () => {
      if (s!.child.exitCode !== null) throw new Error(`npm start exited:\n${s!.output()}`);
      return s!.output().includes('Started flows');
    }, 60_000)));
  });
  after(async () => { await Promise.all([stop(open), stop(locked)]); });

  it('answers the loopback names, with no CORS header', async () => {
    for (const host of loopback(open!.port)) {
      for (const p of ['/flows', '/', '/dashboard/fleet']) {
        const r = await request(open!.port, 'GET', p, { Host: host });
        assert.equal(r.status, 200, `${host}${p}: ${r.status} ${r.body.slice(0, 200)}`);
        assert.deepEqual(corsHeaders(r.headers), [], `${host}${p}`);
      }
    }
    // The editor's own requests carry its origin: still accepted.
    const same = await request(open!.port, 'GET', '/settings', { Host: `127.0.0.1:${open!.port}`, Origin: `http://127.0.0.1:${open!.port}` });
    assert.equal(same.status, 200);
    assert.deepEqual(corsHeaders(same.headers), []);
  });

  it('refuses a foreign Origin: no CORS header, and the preflight fails', async () => {
    const host = `127.0.0.1:${open!.port}`;
    const pre = await request(open!.port, 'OPTIONS', '/flows', { Host: host, Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' });
    assert.ok(pre.status >= 400, `preflight answered ${pre.status}`);
    assert.deepEqual(corsHeaders(pre.headers), []);
    const get = await request(open!.port, 'GET', '/flows', { Host: host, Origin: 'http://evil.example' });
    assert.ok(get.status >= 400 && get.status < 500, `GET answered ${get.status}`);
    assert.deepEqual(corsHeaders(get.headers), []);
    assert.doesNotMatch(get.body, /"type"\s*:\s*"fleet-/, 'no flow in the answer');
    const deploy = await request(open!.port, 'POST', '/flows', { Host: host, Origin: 'http://evil.example', 'Content-Type': 'application/json' }, '[]');
    assert.ok(deploy.status >= 400 && deploy.status < 500, `deploy answered ${deploy.status}`);
    const flows = JSON.parse((await request(open!.port, 'GET', '/flows', { Host: host })).body) as unknown[];
    assert.ok(flows.length > 10, 'the flows are still deployed');
  });

  it('refuses a foreign Host (DNS rebinding) for the editor, admin API, dashboard and websockets', async () => {
    for (const host of [`evil.example:${open!.port}`, 'evil.example', `127.0.0.1.evil.example:${open!.port}`, `localhost:${open!.port + 1}`]) {
      for (const p of ['/', '/flows', '/fleet-registry/qs-registry/devices', '/dashboard/fleet']) {
        const r = await request(open!.port, 'GET', p, { Host: host });
        assert.ok(r.status >= 400 && r.status < 500, `${host}${p}: ${r.status}`);
      }
      const ws = await request(open!.port, 'GET', '/comms', { Host: host, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });
      assert.equal(ws.upgraded, false, `${host}: websocket upgraded`);
      assert.equal(ws.status, 403);
    }
    const ws = await request(open!.port, 'GET', '/comms', { Host: `127.0.0.1:${open!.port}`, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    assert.equal(ws.upgraded, true, 'the editor\'s own websocket still works');
  });

  it('with FLEET_ADMIN_USER and FLEET_ADMIN_PASSWORD, the admin API needs a token', async () => {
    const host = `127.0.0.1:${locked!.port}`;
    assert.match(locked!.output(), /need a login: user admin/);
    assert.equal((await request(locked!.port, 'GET', '/flows', { Host: host })).status, 401);
    assert.equal((await request(locked!.port, 'GET', '/fleet-registry/qs-registry/devices', { Host: host })).status, 401);
    const form = (password: string) => JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password });
    const wrong = await request(locked!.port, 'POST', '/auth/token', { Host: host, 'Content-Type': 'application/json' }, form('not-the-password'));
    assert.ok(wrong.status === 401 || wrong.status === 403, `wrong password: ${wrong.status}`);
    assert.doesNotMatch(wrong.body, /access_token/);
    const ok = await request(locked!.port, 'POST', '/auth/token', { Host: host, 'Content-Type': 'application/json' }, form('test-only-password'));
    assert.equal(ok.status, 200, ok.body);
    const token = (JSON.parse(ok.body) as { access_token: string }).access_token;
    const flows = await request(locked!.port, 'GET', '/flows', { Host: host, Authorization: `Bearer ${token}` });
    assert.equal(flows.status, 200);
    assert.ok((JSON.parse(flows.body) as unknown[]).length > 10);
    // The guard still applies with a token.
    assert.ok((await request(locked!.port, 'GET', '/flows', { Host: `evil.example:${locked!.port}`, Authorization: `Bearer ${token}` })).status >= 400);
    assert.doesNotMatch(locked!.output(), /test-only-password/, 'the password is not logged');
  });

  it('refuses a half-set login instead of starting without one', async () => {
    const half = await npmStart({ FLEET_ADMIN_USER: 'admin' });
    try {
      const code = await new Promise<number | null>((r) => half.child.once('exit', r));
      assert.notEqual(code, 0);
      assert.match(half.output(), /FLEET_ADMIN_USER=admin needs FLEET_ADMIN_PASSWORD_HASH \(bcrypt\) or FLEET_ADMIN_PASSWORD/);
    } finally {
      await stop(half);
    }
  });
});
