#!/usr/bin/env bash
# Everything a checkout needs — system packages, npm dependencies (native modules built from
# source against the local Node headers) and the built daemon and console — doing only what
# changed since the last run, so a start on an installed checkout takes seconds.
#
# Each step leaves a stamp of what it was made from (the lockfile and Node for node_modules, the
# sources for out/) only once it has finished: an interrupted step leaves no stamp, and the next
# run does it again from the start.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh

# node-gyp builds sqlite3 and keytar; the machine's own Node headers avoid a download.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

installed_stamp=node_modules/.gatehouse-installed
installed_from="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version) $(uname -sm)"
if [ "$(cat "$installed_stamp" 2>/dev/null)" != "$installed_from" ]; then
  echo "setup: installing npm dependencies (npm ci)"
  rm -f "$installed_stamp"
  npm ci --no-fund --no-audit --loglevel=error
  for addon in node_modules/sqlite3/build/Release/node_sqlite3.node node_modules/keytar/build/Release/keytar.node; do
    if [ ! -f "$addon" ]; then
      echo "setup: building native modules"
      npm rebuild sqlite3 keytar --loglevel=error
      break
    fi
  done
  echo "$installed_from" > "$installed_stamp"
fi

# What out/ is built from: the packages' sources (tests aside) and the build's configuration.
sources_hash() {
  {
    find shared daemon electron renderer -type f -not -path '*/node_modules/*' \
      -not -name '*.test.ts' -not -name '*.test.tsx' -not -name '*.md'
    ls electron.vite.config.ts tsconfig.base.json package-lock.json
  } | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
}
built_stamp=out/.gatehouse-built
built_from="$(sources_hash) $installed_from"
if [ "$(cat "$built_stamp" 2>/dev/null)" != "$built_from" ]; then
  echo "setup: building the daemon and the console"
  rm -f "$built_stamp"
  npx electron-vite build --logLevel warn
  echo "$built_from" > "$built_stamp"
fi
