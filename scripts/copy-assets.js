#!/usr/bin/env node
// Puts each node's editor file, locales and icons beside its compiled .js (where Node-RED's loader looks),
// and offers flows/ and the dashboard of demo/ under examples/ (what the editor's Import > Examples menu reads).
// flows/ and demo/ stay the one source.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const copyDir = (from, to) => fs.cpSync(from, to, { recursive: true });

for (const name of fs.readdirSync(path.join(root, 'nodes'))) {
  const src = path.join(root, 'nodes', name);
  const dst = path.join(root, 'dist', 'nodes', name);
  if (!fs.existsSync(path.join(src, `${name}.html`))) continue;
  fs.mkdirSync(dst, { recursive: true });
  // A node with a TypeScript editor gets its .html from scripts/build-editors.js (template + bundle).
  if (!fs.existsSync(path.join(src, 'editor', 'index.ts'))) fs.copyFileSync(path.join(src, `${name}.html`), path.join(dst, `${name}.html`));
  if (fs.existsSync(path.join(src, 'locales'))) copyDir(path.join(src, 'locales'), path.join(dst, 'locales'));
  copyDir(path.join(root, 'icons'), path.join(dst, 'icons'));
}

const examples = path.join(root, 'examples');
fs.rmSync(examples, { recursive: true, force: true });
fs.mkdirSync(examples);
for (const f of fs.readdirSync(path.join(root, 'flows'))) {
  if (f.endsWith('.json')) fs.copyFileSync(path.join(root, 'flows', f), path.join(examples, f));
}
// The dashboard tab too: it needs @flowfuse/node-red-dashboard, so it lives in demo/ (its comment node says so).
fs.copyFileSync(path.join(root, 'demo', 'fleet-dashboard.json'), path.join(examples, 'fleet-dashboard.json'));
