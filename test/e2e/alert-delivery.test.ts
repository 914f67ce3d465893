/**
 * Delivery for real: fleet-alerts in a Node-RED process sends e-mail through node-red-node-email to
 * a local SMTP server (smtp-server) and a chat webhook through `http request` to a local HTTP server;
 * one e-mail per group, each with its idempotency key (an e-mail header, a field of the webhook body);
 * a restart (a clean stop) re-sends nothing and the resolve still arrives.
 */
import assert from 'node:assert/strict';
import http from 'node:http';

import { SMTPServer } from 'smtp-server';

import { NodeRedProcess } from '../support/node-red';
import { freePort, waitFor } from '../support/ports';

interface Mail { subject: string; body: string }

function flow(smtpPort: number, webhookUrl: string): unknown[] {
  const z = 'ad';
  const routing = { route: { receiver: 'email facilities', group_by: ['alertname', 'site'], group_wait: '1s', group_interval: '2s', repeat_interval: '4h', routes: [
    { matchers: ['severity="critical"'], receiver: 'chat on-call', continue: true },
    { matchers: ['severity=~"critical|major"'], receiver: 'email facilities' },
  ] } };
  return [
    { id: z, type: 'tab', label: 'alert delivery' },
    { id: 'ad-in', type: 'http in', z, url: '/fleet-alert', method: 'post', upload: false, wires: [['ad-alerts', 'ad-ok']] },
    { id: 'ad-ok', type: 'http response', z, statusCode: '202', wires: [] },
    { id: 'ad-alerts', type: 'fleet-alerts', z, receivers: ['email facilities', 'chat on-call'], routing: JSON.stringify(routing), outputs: 2, wires: [['ad-from'], ['ad-hook']] },
    { id: 'ad-from', type: 'change', z, rules: [{ t: 'set', p: 'from', pt: 'msg', to: 'fleet@example.invalid', tot: 'str' }], wires: [['ad-mail']] },
    { id: 'ad-mail', type: 'e-mail', z, server: '127.0.0.1', port: String(smtpPort), authtype: 'NONE', secure: false, tls: false, name: 'facilities@example.invalid', dname: 'facilities', wires: [] },
    { id: 'ad-hook', type: 'change', z, rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'webhook', tot: 'msg' }, { t: 'set', p: 'headers', pt: 'msg', to: '{"content-type":"application/json"}', tot: 'json' }], wires: [['ad-post']] },
    { id: 'ad-post', type: 'http request', z, method: 'POST', ret: 'txt', url: webhookUrl, tls: '', persist: false, wires: [[]] },
  ];
}

describe('alert delivery: e-mail and chat webhook, through a restart', function () {
  this.timeout(90_000);
  const mails: Mail[] = [];
  const hooks: Array<{ text: string; idempotencyKey?: string }> = [];
  let smtp: SMTPServer;
  let hookServer: http.Server;
  let red: NodeRedProcess;

  before(async () => {
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
      onData(stream, _session, cb) {
        let raw = '';
        stream.on('data', (d: Buffer) => { raw += d.toString(); });
        stream.on('end', () => {
          const subject = /^Subject: (.*)$/m.exec(raw)?.[1] ?? '';
          mails.push({ subject, body: raw });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', () => r()));
    const hookPort = await freePort();
    hookServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => { hooks.push(JSON.parse(body) as { text: string; idempotencyKey?: string }); res.end('ok'); });
    });
    await new Promise<void>((r) => hookServer.listen(hookPort, '127.0.0.1', () => r()));
    red = new NodeRedProcess();
    red.writeFlows(flow(smtpPort, `http://127.0.0.1:${hookPort}/hook`));
    await red.start();
  });

  after(async () => {
    await red?.stop();
    red?.cleanup();
    await new Promise<void>((r) => smtp.close(() => r()));
    await new Promise<void>((r) => hookServer.close(() => r()));
  });

  const post = (alert: object) => fetch(`${red.url}/fleet-alert`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) });
  const critical = (device: string, status = 'firing') => ({ name: 'DeviceCritical', severity: 'critical', summary: `${device} is critical`, device, labels: { site: 'north' }, status });

  it('sends one e-mail and one chat message for a group of two alerts', async () => {
    assert.equal((await post(critical('d-1'))).status, 202);
    assert.equal((await post(critical('d-2'))).status, 202);
    await waitFor('an e-mail', () => mails.length >= 1, 15_000);
    await waitFor('a chat message', () => hooks.length >= 1, 15_000);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(mails.length, 1, mails.map((m) => m.subject).join(' | '));
    assert.equal(mails[0].subject, '[FIRING:2] alertname=DeviceCritical site=north');
    assert.match(mails[0].body, /d-1 is critical/);
    assert.equal(hooks.length, 1);
    assert.match(hooks[0].text, /^\[FIRING:2\] alertname=DeviceCritical site=north/);
    assert.match(hooks[0].idempotencyKey ?? '', /^[0-9a-f]{32}$/);
    assert.match(mails[0].body, /^Idempotency-Key: [0-9a-f]{32}\r?$/m);
  });

  it('after a restart re-sends nothing, and the resolve still arrives', async () => {
    await red.stop();
    await red.start();
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(mails.length, 1, 'nothing re-sent after the restart');
    await post(critical('d-1', 'resolved'));
    await post(critical('d-2', 'resolved'));
    await waitFor('the resolve e-mail', () => mails.find((m) => m.subject.startsWith('[RESOLVED]')), 15_000);
  });
});
