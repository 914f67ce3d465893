// Local receivers for `npm start`: a mail sink (smtp-server) and a chat webhook sink on 127.0.0.1,
// so the alert-routing example delivers somewhere without a mail server or a chat account. What they
// receive is logged and served as JSON at GET /notifications (newest first, the last 200).
'use strict';
const http = require('node:http');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const { SMTPServer } = require(require.resolve('smtp-server', { paths: [root] }));

const KEEP = 200;
const MAX_BODY = 1024 * 1024;

function header(raw, name) {
  const head = raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, ' ');
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return m ? m[1].trim() : '';
}

/** @param {{host?: string, smtpPort?: number, httpPort?: number, log?: (line: string) => void}} opts */
async function startSinks(opts = {}) {
  const host = opts.host || '127.0.0.1';
  const log = opts.log || ((line) => console.log(line));
  /** @type {Array<{at: string, via: 'e-mail' | 'chat', to: string, subject: string}>} */
  const received = [];
  const note = (n) => {
    received.unshift(n);
    if (received.length > KEEP) received.length = KEEP;
    log(`[sink] ${n.via} to ${n.to}: ${n.subject}`);
  };

  const smtp = new SMTPServer({
    // Plain SMTP on loopback: no STARTTLS (its self-signed certificate would fail the node's check), no login.
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    size: MAX_BODY,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (d) => { if (raw.length < MAX_BODY) raw += d.toString('utf8'); });
      stream.on('end', () => {
        note({ at: new Date().toISOString(), via: 'e-mail', to: session.envelope.rcptTo.map((r) => r.address).join(', '), subject: header(raw, 'Subject') });
        callback();
      });
    },
  });
  await new Promise((resolve, reject) => { smtp.server.once('error', reject); smtp.listen(opts.smtpPort || 0, host, resolve); });
  const smtpPort = smtp.server.address().port;

  const web = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/notifications') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(received));
      return;
    }
    if (req.method === 'POST' && req.url === '/chat') {
      let body = '';
      req.on('data', (d) => { if (body.length < MAX_BODY) body += d.toString('utf8'); });
      req.on('end', () => {
        let text = body;
        try { const j = JSON.parse(body); if (j && typeof j.text === 'string') text = j.text; } catch { /* kept as text */ }
        note({ at: new Date().toISOString(), via: 'chat', to: 'on-call', subject: text.split('\n', 1)[0] });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"ok":true}');
      });
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('POST /chat or GET /notifications\n');
  });
  await new Promise((resolve, reject) => { web.once('error', reject); web.listen(opts.httpPort || 0, host, resolve); });
  const httpPort = web.address().port;

  return {
    received,
    env: {
      FLEET_SMTP_HOST: host,
      FLEET_SMTP_PORT: String(smtpPort),
      FLEET_ALERT_EMAIL: 'facilities@example.invalid',
      FLEET_CHAT_WEBHOOK: `http://${host}:${httpPort}/chat`,
      FLEET_SINK_URL: `http://${host}:${httpPort}`,
    },
    close: () => Promise.all([new Promise((r) => smtp.close(r)), new Promise((r) => web.close(r))]),
  };
}

module.exports = { startSinks };
