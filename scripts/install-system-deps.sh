#!/usr/bin/env bash
# Debian packages the tests need: NanumGothic (Korean glyphs in the PDFs the tests make and in
# the browser), Chromium (browser tests through Playwright; `playwright install` cannot download),
# and python3-venv where the Python that makes the venv lacks it.
set -euo pipefail
packages=(fonts-nanum chromium)
missing=()
for p in "${packages[@]}"; do
  # Not `dpkg -s`: it succeeds for a removed package whose config files remain.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
# `make` creates its venv with $PYTHON: Debian's python3 has no ensurepip without python3-venv.
"${PYTHON:-python3}" -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo -n"; else
  echo "install these Debian packages first: ${missing[*]}" >&2; exit 1
fi
# Right after boot, apt's daily jobs can hold apt's locks for minutes: installs wait for the
# dpkg lock (Lock::Timeout), but `apt-get update` fails at once on its lists lock, so retry it.
apt_get() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }
for attempt in $(seq 30); do
  apt_get update -qq && break
  [ "$attempt" -lt 30 ] || exit 1
  sleep 10
done
apt_get install -y -qq "${missing[@]}"
