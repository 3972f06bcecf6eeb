#!/usr/bin/env bash
# Run every test: lint; the package (Keras 3, then its core under Keras 2); the
# book built with warnings as errors and checked in headless Chromium; every
# notebook re-executed and compared by nbval.
source "$(dirname "$0")/_env.sh"
set -x
bash scripts/install_browser.sh   # Debian's chromium, for tests/test_browser.py
ruff check .
pytest tests
TF_USE_LEGACY_KERAS=1 pytest tests/test_blocks.py tests/test_model.py -p no:cacheprovider
pytest --nbval --nbval-current-env --nbval-cell-timeout=900 \
  --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks
