#!/usr/bin/env bash
# Debian packages the tests need: NanumGothic (Korean glyphs in the PDFs the tests make and in
# the browser), Chromium (browser tests through Playwright; `playwright install` cannot download).
set -euo pipefail
packages=(fonts-nanum chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "install these Debian packages first: ${missing[*]}" >&2; exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
