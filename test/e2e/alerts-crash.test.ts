/**
 * SIGKILL for real: fleet-alerts in a child Node-RED sends e-mail (node-red-node-email → a local
 * SMTP server) and a chat webhook (`http request` → a local HTTP server) while alerts arrive over
 * HTTP; the process is killed at random moments and at the worst ones (while the receiver takes a
 * notification, just after it took one, in the middle of a stream of commits), then restarted.
 * At the receivers: every accepted alert is notified (firing, then resolved), and a notification
 * that arrives twice carries the same idempotency key; nothing is re-sent as new.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { SMTPServer } from 'smtp-server';

import { NodeRedProcess } from '../support/node-red';
import { freePort, waitFor } from '../support/ports';

interface Hook { key: string; group: string; status: string; members: string[] }
interface Mail { key: string; subject: string; body: string }

function flow(smtpPort: number, webhookUrl: string): unknown[] {
  const z = 'cr';
  const routing = { route: { receiver: 'email', group_by: ['alertname', 'site'], group_wait: '1s', group_interval: '1s', repeat_interval: '4h', routes: [
    { matchers: ['severity="critical"'], receiver: 'chat', continue: true },
    { matchers: ['severity="critical"'], receiver: 'email' },
  ] } };
  const body = [
    'msg.payload = { text: msg.webhook.text, idempotencyKey: msg.webhook.idempotencyKey, group: msg.notification.groupKey,',
    '  status: msg.notification.status, members: msg.notification.alerts.map(function (a) { return a.device + ":" + a.status; }) };',
    'msg.headers = Object.assign({ "content-type": "application/json" }, msg.headers);',
    'return msg;',
  ].join('\n');
  return [
    { id: z, type: 'tab', label: 'alerts crash' },
    { id: 'cr-in', type: 'http in', z, url: '/fleet-alert', method: 'post', upload: false, wires: [['al']] },
    // 202 only once fleet-alerts is done with the alert, i.e. once it is in the journal.
    { id: 'cr-accepted', type: 'complete', z, scope: ['al'], uncaught: false, wires: [['cr-has-res']] },
    { id: 'cr-has-res', type: 'switch', z, property: 'res', propertyType: 'msg', rules: [{ t: 'nnull' }], checkall: 'true', repair: false, outputs: 1, wires: [['cr-ok']] },
    { id: 'cr-ok', type: 'http response', z, statusCode: '202', wires: [] },
    { id: 'al', type: 'fleet-alerts', z, receivers: ['email', 'chat'], routing: JSON.stringify(routing), outputs: 2, wires: [['cr-from'], ['cr-body']] },
    { id: 'cr-from', type: 'change', z, rules: [{ t: 'set', p: 'from', pt: 'msg', to: 'fleet@example.invalid', tot: 'str' }], wires: [['cr-mail']] },
    { id: 'cr-mail', type: 'e-mail', z, server: '127.0.0.1', port: String(smtpPort), authtype: 'NONE', secure: false, tls: false, name: 'facilities@example.invalid', dname: 'facilities', wires: [] },
    { id: 'cr-body', type: 'function', z, func: body, outputs: 1, wires: [['cr-post']] },
    { id: 'cr-post', type: 'http request', z, method: 'POST', ret: 'txt', url: webhookUrl, tls: '', persist: false, wires: [[]] },
    // The receivers' confirmations: a delivered notification leaves the outbox.
    { id: 'cr-delivered', type: 'complete', z, scope: ['cr-mail', 'cr-post'], uncaught: false, wires: [['al']] },
  ];
}

/** nodemailer writes quoted-printable: undo the soft line breaks and the escapes we look for. */
const unQp = (s: string): string => s.replace(/=\r?\n/g, '').replace(/=3D/g, '=');

describe('alert delivery through SIGKILLs: at least once, duplicates only with the same key', function () {
  this.timeout(120_000);
  const hooks: Hook[] = [];
  const mails: Mail[] = [];
  /** Set by a round: what the receivers do to the process on their next notification. */
  let trap: null | 'hook-received' | 'mail-started' | 'mail-taken' = null;
  let smtp: SMTPServer;
  let hookServer: http.Server;
  let red: NodeRedProcess;
  const accepted = new Set<string>();
  let seq = 0;

  const kill = async (): Promise<void> => {
    let pid: number;
    try { pid = red.pid; } catch { return; }
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    await waitFor('Node-RED to die', () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 10_000, 20);
  };
  const fire = (trigger: 'hook-received' | 'mail-started' | 'mail-taken'): void => {
    if (trap !== trigger) return;
    trap = null;
    void kill();
  };

  before(async () => {
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
      onData(stream, _session, cb) {
        // Killed while the mail is being handed over: the receiver never took it.
        if (trap === 'mail-started') { fire('mail-started'); stream.resume(); stream.on('end', () => cb(new Error('sender died'))); return; }
        let raw = '';
        stream.on('data', (d: Buffer) => { raw += d.toString(); });
        stream.on('end', () => {
          const key = /^Idempotency-Key: *(\S+)/im.exec(raw)?.[1] ?? '';
          mails.push({ key, subject: /^Subject: (.*)$/m.exec(raw)?.[1] ?? '', body: unQp(raw) });
          cb();
          fire('mail-taken');
        });
      },
    });
    smtp.on('error', () => undefined); // a sender killed mid-session resets its connection
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', () => r()));
    const hookPort = await freePort();
    hookServer = http.createServer((req, res) => {
      let body = '';
      req.on('error', () => undefined);
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        const b = JSON.parse(body) as { idempotencyKey: string; group: string; status: string; members: string[] };
        assert.equal(req.headers['idempotency-key'], b.idempotencyKey, 'the header and the body carry the same key');
        hooks.push({ key: b.idempotencyKey, group: b.group, status: b.status, members: [...b.members].sort() });
        res.end('ok');
        fire('hook-received');
      });
    });
    hookServer.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((r) => hookServer.listen(hookPort, '127.0.0.1', () => r()));
    red = new NodeRedProcess();
    red.writeFlows(flow(smtpPort, `http://127.0.0.1:${hookPort}/hook`));
  });

  after(async () => {
    await red?.stop();
    red?.cleanup();
    await new Promise<void>((r) => smtp.close(() => r()));
    hookServer.closeAllConnections();
    await new Promise<void>((r) => hookServer.close(() => r()));
  });

  /** Posts an alert; it counts as accepted only on a 202 (sent once it is durable). */
  const post = async (device: string, status = 'firing'): Promise<boolean> => {
    try {
      const res = await fetch(`${red.url}/fleet-alert`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'DeviceCritical', severity: 'critical', summary: `${device} is critical`, device, labels: { site: Number(device.slice(2)) % 2 ? 'north' : 'south' }, status }),
        signal: AbortSignal.timeout(5000),
      });
      return res.status === 202;
    } catch {
      return false;
    }
  };
  const batch = async (n: number): Promise<void> => {
    const devices = Array.from({ length: n }, () => `d-${++seq}`);
    const ok = await Promise.all(devices.map((d) => post(d)));
    devices.forEach((d, i) => { if (ok[i]) accepted.add(d); });
  };
  const rand = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo));
  const dead = (): boolean => { try { process.kill(red.pid, 0); return false; } catch { return true; } };

  it('survives SIGKILLs at random moments and at the worst ones', async () => {
    const rounds: Array<() => Promise<void>> = [
      async () => { await batch(4); await new Promise((r) => setTimeout(r, rand(0, 2500))); },
      async () => { trap = 'hook-received'; await batch(4); await waitFor('the kill just after a webhook', dead, 10_000, 20); },
      async () => { trap = 'mail-taken'; await batch(4); await waitFor('the kill just after an e-mail', dead, 10_000, 20); },
      async () => { trap = 'mail-started'; await batch(4); await waitFor('the kill during an e-mail', dead, 10_000, 20); },
      async () => {
        // Mid-stream: commits every few milliseconds, the kill lands just before or during one.
        const stream = batch(30);
        await new Promise((r) => setTimeout(r, rand(5, 60)));
        await kill();
        await stream;
      },
      async () => { await batch(4); await new Promise((r) => setTimeout(r, rand(900, 1300))); }, // around the first flush
      async () => { await batch(4); await new Promise((r) => setTimeout(r, rand(0, 2500))); },
    ];
    for (const [i, round] of rounds.entries()) {
      const t0 = Date.now();
      await red.start();
      const t1 = Date.now();
      await round();
      if (process.env.CRASH_DEBUG) console.log(`round ${i}: start ${t1 - t0} ms, round ${Date.now() - t1} ms, hooks ${hooks.length}, mails ${mails.length}`);
      trap = null;
      await kill();
    }
    await red.start();
    assert.ok(fs.existsSync(path.join(red.userDir, 'fleet-state', 'fleet-alerts-al.jsonl')), 'the journal is in <userDir>/fleet-state');
    assert.ok(accepted.size >= 20, `${accepted.size} alerts accepted`);

    const firingAt = (list: Hook[]): Set<string> => new Set(list.flatMap((h) => h.members.filter((m) => m.endsWith(':firing')).map((m) => m.split(':')[0])));
    const mailed = (): Set<string> => new Set(mails.flatMap((m) => [...m.body.matchAll(/(d-\d+) is critical \(since/g)].map((x) => x[1])));
    await waitFor('every accepted alert at both receivers', () => [...accepted].every((d) => firingAt(hooks).has(d) && mailed().has(d)), 20_000);

    // Resolve everything (and whatever a kill left unconfirmed): each resolve is notified too.
    const all = Array.from({ length: seq }, (_, i) => `d-${i + 1}`);
    const resolvedOk = await Promise.all(all.map((d) => post(d, 'resolved')));
    assert.ok(resolvedOk.every(Boolean), 'every resolve accepted');
    const resolvedAt = (): Set<string> => new Set(hooks.flatMap((h) => h.members.filter((m) => m.endsWith(':resolved')).map((m) => m.split(':')[0])));
    await waitFor('every accepted alert resolved at the webhook', () => [...accepted].every((d) => resolvedAt().has(d)), 20_000);
    await waitFor('a resolve e-mail', () => mails.some((m) => m.subject.startsWith('[RESOLVED]')), 20_000);

    // Duplicates only with the same key, and each key always carries the same notification.
    const byKey = new Map<string, Hook>();
    for (const h of hooks) {
      assert.match(h.key, /^[0-9a-f]{32}$/);
      const first = byKey.get(h.key);
      if (first) assert.deepEqual(h, first, 'a redelivery is the same notification');
      else byKey.set(h.key, h);
    }
    // Nothing re-sent as new: no two keys carry the same group with the same alerts and states.
    const contents = [...byKey.values()].map((h) => `${h.group} ${h.status} ${h.members.join(',')}`);
    assert.equal(new Set(contents).size, contents.length, contents.join('\n'));
    const mailKeys = new Map<string, string>();
    for (const m of mails) {
      assert.match(m.key, /^[0-9a-f]{32}$/, 'every e-mail carries an Idempotency-Key header');
      const first = mailKeys.get(m.key);
      if (first !== undefined) assert.equal(m.subject, first);
      else mailKeys.set(m.key, m.subject);
    }
    if (process.env.CRASH_DEBUG) { for (const m of mails) console.log(m.key, m.subject); console.log(red.output); }
    console.log(`      ${accepted.size} alerts accepted; ${hooks.length} webhook posts (${byKey.size} keys), ${mails.length} e-mails (${mailKeys.size} keys)`);
  });
});
