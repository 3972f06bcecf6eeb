#!/usr/bin/env bash
# Run every test: lint; the package (Keras 3, then its core under Keras 2); the
# docstring examples; the book built with warnings as errors and checked in
# headless Chromium; every notebook re-executed and compared by nbval. Prints how
# long each stage took.
#
#   bash scripts/test.sh           everything (what CI runs)
#   bash scripts/test.sh --quick   lint, the fast tests (not marked slow), the doctests
source "$(dirname "$0")/_env.sh"
timings=()
current=""

# stage NAME COMMAND...: run COMMAND traced, then record its duration; stop on failure.
stage() {
  local name=$1 start=$SECONDS
  shift
  current="$name" current_start=$start
  echo "=== $name ==="
  (set -x; "$@")
  timings+=("$(printf '%-26s %5d s' "$name" $((SECONDS - start)))")
  echo "=== $name: $((SECONDS - start)) s ==="
  current=""
}
report() {
  echo "Stage times:"
  printf "  %s\n" "${timings[@]}"
  if [ -n "$current" ]; then
    printf "  %-26s %5d s (FAILED)\n" "$current" $((SECONDS - current_start))
  fi
}
trap report EXIT

# The package's docstring examples, every module's, none ignored.
doctests=(pytest --doctest-modules resnet -p no:cacheprovider)

if [ "${1:-}" = "--quick" ]; then
  stage "lint (ruff)" ruff check .
  stage "pytest (fast)" pytest tests -m "not slow" -p no:cacheprovider
  stage "doctests" "${doctests[@]}"
  exit 0
fi

stage "browser install" bash scripts/install_browser.sh  # Debian's chromium, for test_browser
stage "lint (ruff)" ruff check .
stage "pytest (Keras 3)" pytest tests --durations=20
stage "doctests" "${doctests[@]}"
stage "pytest (Keras 2 re-run)" env TF_USE_LEGACY_KERAS=1 pytest tests/test_blocks.py \
  tests/test_model.py tests/test_course_calls.py -p no:cacheprovider
# The stored notebooks ran with the seeds their code shows; nbval re-runs them with every
# training seed shifted (tests/nbval_paths.py), so each training chapter takes another path
# than the stored one, as it would on another CPU kind, and only what does not depend on
# the run may be compared. Set RESNET_BOOK_SEED_OFFSET to try another path.
# The Performance appendix (book/performance.ipynb) only reads the shipped results, so its
# outputs are compared as they are.
# The cell timeout catches a hung cell, not a slow CPU: the longest cell, chapter 5's fit,
# took 681 s on an idle 2-core AMD EPYC, AVX2 only (family 23, or family 25 without
# AVX-512; which one was not recorded), with the 32x32 recipe, and CI's machine ran the
# notebooks 27% slower than that one, which would leave 900 s a margin of a few percent.
offset=${RESNET_BOOK_SEED_OFFSET:-1}
stage "notebooks (nbval, seed offset $offset)" env RESNET_BOOK_SEED_OFFSET="$offset" \
  PYTHONPATH=tests pytest -p nbval_paths --nbval --nbval-current-env --nbval-cell-timeout=1800 \
  --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks \
  book/performance.ipynb
