# Sourced by the other scripts: make sure .venv holds requirements.txt and the
# package, then put it first on PATH. Needs only a Python 3.10 to 3.13.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-python3}
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.installed 2>/dev/null)" != "$want" ]; then
  echo "Setting up .venv from requirements.txt (a few minutes the first time)..."
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt -e .
  echo "$want" > .venv/.installed
fi
export PATH="$PWD/.venv/bin:$PATH"
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=${PYTHONWARNINGS:-}
