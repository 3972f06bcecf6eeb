#!/usr/bin/env bash
# Run every test: lint, the package under Keras 3 and Keras 2, every notebook
# under nbval, and the book build with warnings as errors.
source "$(dirname "$0")/_env.sh"
set -x
ruff check .
pytest tests
TF_USE_LEGACY_KERAS=1 pytest tests/test_blocks.py tests/test_model.py -p no:cacheprovider
pytest --nbval --nbval-current-env --nbval-cell-timeout=900 \
  --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks
