// The editor, admin API and dashboard of `npm start` answer only loopback names and no other origin:
// a web page open in the same browser must not read or redeploy the flows, by CORS or by DNS
// rebinding (a foreign name that resolves to 127.0.0.1 arrives with its own Host header).
'use strict';

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * The Host values accepted on `port`: the loopback names with the port, plus FLEET_ALLOWED_HOSTS
 * (comma-separated host:port) for a deliberate LAN setup.
 * @param {number} port @param {string | undefined} extra @returns {Set<string>}
 */
function allowedHosts(port, extra = process.env.FLEET_ALLOWED_HOSTS) {
  const hosts = new Set(LOOPBACK.map((h) => `${h}:${port}`));
  for (const h of (extra || '').split(',')) if (h.trim()) hosts.add(h.trim().toLowerCase());
  return hosts;
}

/** Why a request is refused, or null. @param {import('http').IncomingMessage} req @param {Set<string>} hosts */
function refusal(req, hosts) {
  const host = String(req.headers.host || '').toLowerCase();
  if (!hosts.has(host)) return `Host ${JSON.stringify(host)} is not a loopback name of this server`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost = null;
    try { originHost = new URL(String(origin)).host.toLowerCase(); } catch { /* not a URL */ }
    // Same origin (the editor's own POSTs carry an Origin header) is fine; any other is not.
    if (originHost === null || !hosts.has(originHost)) return `cross-origin request from ${String(origin)} refused`;
  }
  return null;
}

/**
 * Wraps an http.Server so every request and websocket upgrade is checked before Node-RED, express
 * or the dashboard see it, and no response carries an Access-Control-* header (Node-RED's admin app
 * hard-codes `Access-Control-Allow-Origin: *`).
 * @param {import('http').Server} server @param {() => Set<string>} hosts
 */
function guardServer(server, hosts) {
  const emit = server.emit;
  server.emit = function guardedEmit(event, req, resOrSocket, ...rest) {
    if (event === 'request' || event === 'upgrade') {
      const why = refusal(req, hosts());
      if (why) {
        if (event === 'request') {
          resOrSocket.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
          resOrSocket.end(`${why}\n`);
        } else {
          resOrSocket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        }
        return true;
      }
      if (event === 'request') {
        const res = resOrSocket;
        const setHeader = res.setHeader;
        res.setHeader = function noCors(name, value) {
          if (/^access-control-/i.test(name)) return res;
          return setHeader.call(res, name, value);
        };
      }
    }
    return emit.call(this, event, req, resOrSocket, ...rest);
  };
}

module.exports = { allowedHosts, refusal, guardServer, LOOPBACK };
