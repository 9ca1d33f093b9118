#!/usr/bin/env bash
# Runs a command with a reachable, unlocked Secret Service (the OS keychain keytar talks to).
#
# - If the session already has one (a desktop login), the command runs as it is.
# - Otherwise (headless machines, CI) it starts a private D-Bus session with gnome-keyring in it.
#   GATEHOUSE_KEYRING_DIR says where that keyring keeps its files (default: a throwaway temp dir,
#   right for tests); the keyring is unlocked with GATEHOUSE_KEYRING_PASSWORD (default: a fixed
#   test password — set your own for a keyring you keep).
#
# Usage: scripts/with-keyring.sh <command> [args…]
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 <command> [args…]" >&2
  exit 2
fi

has_secret_service() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 1
  command -v dbus-send >/dev/null 2>&1 || return 1
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'
}

if [ "${GATEHOUSE_PRIVATE_KEYRING:-}" != "1" ] && has_secret_service; then
  exec "$@"
fi

for tool in dbus-run-session gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-keyring: $tool is missing; run scripts/install-system-deps.sh first." >&2
    exit 1
  fi
done

keyring_dir="${GATEHOUSE_KEYRING_DIR:-}"
if [ -z "$keyring_dir" ]; then
  keyring_dir="$(mktemp -d -t gatehouse-keyring.XXXXXX)"
  trap 'rm -rf "$keyring_dir"' EXIT
fi
mkdir -p -m 700 "$keyring_dir/data" "$keyring_dir/run" "$keyring_dir/config"

# gnome-keyring keeps its files under XDG_DATA_HOME; a private HOME/XDG keeps the user's own keyring untouched.
export GATEHOUSE_KEYRING_PASSWORD="${GATEHOUSE_KEYRING_PASSWORD:-gatehouse-test-keyring}"
export GATEHOUSE_REAL_HOME="${GATEHOUSE_REAL_HOME:-$HOME}"
HOME="$keyring_dir" XDG_DATA_HOME="$keyring_dir/data" XDG_RUNTIME_DIR="$keyring_dir/run" XDG_CONFIG_HOME="$keyring_dir/config" \
  dbus-run-session -- bash -c '
    printf "%s" "$GATEHOUSE_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    unset GATEHOUSE_KEYRING_PASSWORD
    export HOME="$GATEHOUSE_REAL_HOME"
    exec "$@"' with-keyring "$@"
