#!/usr/bin/env bash
# Quick start: installs everything, then runs gatehoused on 127.0.0.1 (default port 7420) in the
# foreground with its API docs at /docs. Extra arguments go to `gatehouse daemon` (e.g. --port 0).
#
# Secrets go to the OS keychain. With no Secret Service in this session (a headless machine),
# a gnome-keyring is started for the daemon with its files in <data dir>/keyring, so secrets
# survive restarts; it is unlocked with GATEHOUSE_KEYRING_PASSWORD, or with a random password
# generated once and kept (0600) beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

has_secret_service() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] &&
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'
}

home="${GATEHOUSE_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/gatehouse}"
export GATEHOUSE_HOME="$home"

if [ "${GATEHOUSE_SECRET_STORE:-keychain}" = "file" ] || [[ " $* " == *" --secret-store file "* || " $* " == *"--secret-store=file"* ]] || has_secret_service; then
  exec node daemon/bin/gatehouse.js daemon "$@"
fi

export GATEHOUSE_KEYRING_DIR="${GATEHOUSE_KEYRING_DIR:-$home/keyring}"
mkdir -p -m 700 "$GATEHOUSE_KEYRING_DIR"
if [ -z "${GATEHOUSE_KEYRING_PASSWORD:-}" ]; then
  password_file="$GATEHOUSE_KEYRING_DIR/unlock-password"
  if [ ! -f "$password_file" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 > "$password_file")
  fi
  GATEHOUSE_KEYRING_PASSWORD="$(cat "$password_file")"
  echo "start: no Secret Service in this session; using a gnome-keyring in $GATEHOUSE_KEYRING_DIR," \
    "unlocked with the password in $password_file (set GATEHOUSE_KEYRING_PASSWORD to use your own)." >&2
fi
export GATEHOUSE_KEYRING_PASSWORD GATEHOUSE_PRIVATE_KEYRING=1
exec bash scripts/with-keyring.sh node --max-semi-space-size=8 daemon/bin/gatehouse.js daemon "$@"
