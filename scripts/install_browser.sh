#!/usr/bin/env bash
# Install Debian's Chromium for the browser test (tests/test_browser.py), which
# drives it with Playwright. Playwright's own browser download needs the
# internet; Debian's package comes from the package registry. Does nothing when
# /usr/bin/chromium is already there. Installing needs root or passwordless
# sudo, and the network.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
packages="chromium fonts-dejavu-core"  # without a font, pages and screenshots show boxes
command="apt-get update && apt-get install -y --no-install-recommends $packages"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    cat >&2 <<MESSAGE
The browser test needs Debian's Chromium at /usr/bin/chromium, and installing it
needs root (this user is $(id -un), with no passwordless sudo). Run, as root:

  $command

(or with sudo: sudo sh -c '$command'), then run scripts/test.sh again.
MESSAGE
    exit 1
  fi
fi
echo "Installing chromium with apt-get (a minute or two the first time)..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $packages
# Debian's /etc/chromium.d/dev-shm, which the wrapper sources, runs
# `[ $shm_avail -lt 4080218931 ]` unquoted. Where /dev/shm is mounted twice, findmnt
# prints its free bytes twice and dash says "/usr/bin/chromium: 9: [: <bytes>: unexpected
# operator". The test then counts as false, so the wrapper skips --disable-dev-shm-usage,
# which it adds only below 3.8 GB free: harmless unless /dev/shm is that small. Keep that
# one line out of the output.
/usr/bin/chromium --version 2>&1 | grep -v '^/usr/bin/chromium: [0-9]*: \[: [0-9]*: unexpected operator$'
