#!/usr/bin/env bash
# Install the Debian packages that the tests and samples/make_samples.py need:
#   espeak-ng          speech for mmretrieval.testing.synth
#   fonts-dejavu-core  DejaVuSans-Bold for the drawn captions
#   chromium           the browser tests/test_browser.py drives through Playwright
# Idempotent and quiet when everything is already present.
set -euo pipefail

packages=(espeak-ng fonts-dejavu-core chromium)
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$pkg")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "Installing: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
