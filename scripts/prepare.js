#!/usr/bin/env node
// npm's `prepare`: the build, except when the package-surface test lists what `npm pack` would ship.
// npm 10 runs `prepare` on `npm pack` even with --ignore-scripts (npm 11 stopped: npm/cli#7211), and
// both test passes list the package at once, so two builds would rewrite dist/ and the generated
// contract types under the running suites.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

if (process.env.FLEET_PACK_LIST === '1') process.exit(0);
try {
  execFileSync('npm', ['run', 'build'], { cwd: path.resolve(__dirname, '..'), stdio: 'inherit' });
} catch (err) {
  process.exit(typeof err.status === 'number' ? err.status : 1);
}
