#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Gatehouse needs: a compiler for the native modules
# (sqlite3, keytar), libsecret and a Secret Service (gnome-keyring in a D-Bus session) for the
# OS keychain, Chromium with Xvfb for the browser tests, zsh so the CLI's zsh completion is
# tested too, and openssl for the TLS test's certificate. Idempotent: quick when all is there.
set -euo pipefail

packages=(build-essential python3 libsecret-1-dev libsecret-tools gnome-keyring dbus chromium xvfb xauth zsh openssl)

node_ok() {
  local version major minor
  version=$(node --version 2>/dev/null) || return 1
  IFS=. read -r major minor _ <<<"${version#v}"
  [ "$major" -gt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; }
}
if ! node_ok; then
  echo "install-system-deps: Gatehouse needs Node.js 20.19 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: not a Debian/Ubuntu system; install these yourself: ${packages[*]}" >&2
  exit 1
fi

# One dpkg-query for all of them: the check runs on every start. It exits non-zero when any
# package is unknown to dpkg, which is exactly the case to carry on from.
installed=$({ dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true; } | awk '$2 == "installed" { print $1 }')
missing=()
for package in "${packages[@]}"; do
  grep -qx "$package" <<<"$installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-system-deps: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
