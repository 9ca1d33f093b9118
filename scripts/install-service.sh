#!/usr/bin/env bash
# Runs gatehoused on its own, started at login: installs the systemd user unit (Linux) or the
# launchd agent (macOS) from packaging/, with this checkout's built daemon and this machine's
# node written in as absolute paths (a service manager's PATH finds neither), and starts it.
#   bash scripts/install-service.sh           build if needed, install, start
#   bash scripts/install-service.sh --print   only print the unit it would install
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
node="$(command -v node)"

case "$(uname -s)" in
  Darwin) template=packaging/dev.gatehouse.daemon.plist target="$HOME/Library/LaunchAgents/dev.gatehouse.daemon.plist" ;;
  *) template=packaging/gatehoused.service target="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/gatehoused.service" ;;
esac
unit="$(sed -e "s#@NODE@#$node#g" -e "s#@GATEHOUSE@#$repo/daemon/bin/gatehouse.js#g" "$template")"

if [ "${1:-}" = "--print" ]; then
  printf '%s\n' "$unit"
  exit 0
fi

[ -f out/main/daemon.js ] || bash scripts/setup.sh
mkdir -p "$(dirname "$target")"
printf '%s\n' "$unit" > "$target"
echo "install-service: wrote $target"
if [ "$(uname -s)" = Darwin ]; then
  launchctl unload "$target" 2>/dev/null || true
  launchctl load "$target"
else
  systemctl --user daemon-reload
  systemctl --user enable --now gatehoused
fi
echo "install-service: gatehoused runs now and at each login; its URL is in daemon.json in the data directory."
