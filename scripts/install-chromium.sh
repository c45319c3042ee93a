#!/usr/bin/env bash
# Installs Debian's chromium for the browser test of the HTML report (reporters/html_browser_test.go),
# unless /usr/bin/chromium is already there. Idempotent: a second run does nothing.
#
#   scripts/install-chromium.sh
#
# The test drives chromium through the DevTools protocol (chromedp); it needs no chromedriver and no
# browser download of its own, only the distribution package.
set -euo pipefail

bin=/usr/bin/chromium

if [ -x "$bin" ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: apt-get not found; install chromium with your package manager so that $bin exists" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-chromium: need root (or sudo) to apt-get install chromium" >&2
    exit 1
  fi
  sudo=sudo
fi

echo "install-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium

if ! "$bin" --version >/dev/null 2>&1; then
  echo "install-chromium: $bin does not run after apt-get install chromium" >&2
  exit 1
fi
