#!/usr/bin/env bash
# Everything a fresh checkout needs: system packages, npm dependencies (native modules built
# from source against the local Node headers), and the compiled daemon.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh

# node-gyp builds sqlite3 and keytar; the machine's own Node headers avoid a download.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

if [ -f package-lock.json ]; then npm ci --no-fund --no-audit --loglevel=error; else npm install --no-fund --no-audit --loglevel=error; fi
for addon in node_modules/sqlite3/build/Release/node_sqlite3.node node_modules/keytar/build/Release/keytar.node; do
  if [ ! -f "$addon" ]; then
    echo "setup: building native modules"
    npm rebuild sqlite3 keytar --loglevel=error
    break
  fi
done

npm run --silent build
