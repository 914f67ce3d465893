#!/usr/bin/env node
// `npm test` after lint: the suite on this machine's Node with Node-RED 4.1 (mocha, .mocharc.json) and,
// at the same time, the compatibility pass on Node 22 with Node-RED 5 (run.sh, .mocharc.compat.json).
// Both at once because the suite mostly waits (simulated fleets, timers, browsers): one pass uses about
// a third of one core, so two fit on two cores in the time of the longer one. The first pass prints as
// it runs; the second is kept in .cache/compat-pass.log and printed when both are done. Fails if either
// fails. FLEET_TEST_PASSES=node-red-4 or =node-red-5 runs one pass only.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const only = process.env.FLEET_TEST_PASSES || '';
const log = path.join(root, '.cache', 'compat-pass.log');

function run(name, cmd, args, out) {
  const started = Date.now();
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', out, out] });
  const done = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ name, code: code ?? 1, signal, seconds: Math.round((Date.now() - started) / 1000) })));
  return { child, done };
}

async function main() {
  const runs = [];
  if (only !== 'node-red-5') runs.push(run('Node-RED 4.1 on this Node', process.execPath, [path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js')], 'inherit'));
  let fd = null;
  if (only !== 'node-red-4') {
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fd = fs.openSync(log, 'w');
    runs.push(run('Node-RED 5 on Node 22', 'bash', [path.join(__dirname, 'run.sh')], only === 'node-red-5' ? 'inherit' : fd));
    if (only !== 'node-red-5') console.log(`[test] the compatibility pass (Node-RED 5, Node 22) runs alongside; its output: ${path.relative(root, log)}`);
  }
  const stop = (sig) => { for (const r of runs) r.child.kill(sig); };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const results = await Promise.all(runs.map((r) => r.done));
  if (fd !== null) {
    fs.closeSync(fd);
    if (only !== 'node-red-5') {
      console.log('\n[test] ---- compatibility pass: Node-RED 5 on Node 22 ----');
      process.stdout.write(fs.readFileSync(log, 'utf8'));
    }
  }
  for (const r of results) console.log(`[test] ${r.name}: ${r.code === 0 ? 'passed' : `FAILED (${r.signal ?? `exit ${r.code}`})`} in ${Math.floor(r.seconds / 60)} min ${r.seconds % 60} s`);
  process.exit(results.every((r) => r.code === 0) ? 0 : 1);
}

main().catch((err) => { console.error(err); process.exit(1); });
