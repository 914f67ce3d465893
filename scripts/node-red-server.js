#!/usr/bin/env node
// Node-RED embedded in an http server of our own (Node-RED's documented embedding), so the loopback
// guard runs before Node-RED's admin app answers a cross-origin preflight. Run by `npm start`.
'use strict';
const http = require('node:http');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const settings = require(path.join(root, 'settings.js'));
const { allowedHosts, guardServer } = require('./loopback-guard.js');

const express = require(require.resolve('express', { paths: [root] }));
const RED = require(require.resolve('node-red', { paths: [root] }));

const app = express();
app.disable('x-powered-by');
const server = http.createServer(app);
guardServer(server, () => allowedHosts(settings.uiPort));

const config = { httpAdminRoot: '/', httpNodeRoot: '/', ...settings };
RED.init(server, config);
app.use(config.httpAdminRoot, RED.httpAdmin);
app.use(config.httpNodeRoot, RED.httpNode);

server.on('error', (err) => {
  console.error(`[node-red] cannot listen on ${settings.uiHost}:${settings.uiPort}: ${err.message}`);
  process.exit(1);
});
server.listen(settings.uiPort, settings.uiHost, () => {
  RED.start().then(() => {
    RED.log.info(`Server now running at http://${settings.uiHost}:${settings.uiPort}/`);
  }, (err) => {
    console.error(`[node-red] failed to start: ${err.stack || err}`);
    process.exit(1);
  });
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  RED.stop().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
