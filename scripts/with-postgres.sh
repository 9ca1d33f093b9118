#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: Debian's packages (installed if missing), a
# data directory of its own in a temp dir, its own port on loopback, stopped and deleted at the end.
# The command gets GATEHOUSE_TEST_DATABASE_URL, the server's superuser URL: the test harness creates
# a database per daemon from it (and drops it afterwards).
#
# Usage: scripts/with-postgres.sh <command> [args…]
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 <command> [args…]" >&2
  exit 2
fi

bin=/usr/lib/postgresql/15/bin
if [ ! -x "$bin/postgres" ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "with-postgres: run as root or install sudo to install postgresql" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "with-postgres: installing postgresql"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq postgresql-15 >/dev/null
fi

# initdb refuses to run as root: as root, the server runs as the `postgres` user the package made.
as_owner=()
[ "$(id -u)" -eq 0 ] && as_owner=(runuser -u postgres --)

dir="$(mktemp -d -t gatehouse-postgres.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port="${GATEHOUSE_POSTGRES_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"

stop() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: a throwaway server for tests, where a crash loses nothing worth keeping.
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }

export GATEHOUSE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
