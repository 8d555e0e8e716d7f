#!/usr/bin/env bash
# Installs Debian's headless Chromium and its chromedriver (used by tests/test_browser.py).
# Idempotent: does nothing when /usr/bin/chromium and /usr/bin/chromedriver already exist.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

if [[ -x "$CHROMIUM" && -x "$CHROMEDRIVER" ]]; then
    echo "install-browser: chromium and chromedriver already installed ($CHROMIUM, $CHROMEDRIVER); nothing to do"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: $CHROMIUM or $CHROMEDRIVER is missing and apt-get is not available;" >&2
    echo "install-browser: install Chromium and chromedriver by hand" >&2
    exit 1
fi

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-browser: not root and sudo is unavailable; run as root to install chromium" >&2
        exit 1
    fi
fi

echo "install-browser: installing chromium and chromium-driver with apt-get"
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    chromium chromium-driver
echo "install-browser: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium) and $("$CHROMEDRIVER" --version 2>/dev/null | head -n1 || echo chromedriver)"
