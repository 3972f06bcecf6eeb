#!/usr/bin/env bash
# Install Debian's Chromium for the browser test (tests/test_browser.py), which
# drives it with Playwright. Playwright's own browser download needs the
# internet; Debian's package comes from the package registry. Does nothing when
# /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "Installing chromium with apt-get (a minute or two the first time)..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# fonts-dejavu-core: without a font the pages and screenshots show empty boxes.
$sudo apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version
