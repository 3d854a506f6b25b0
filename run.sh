#!/usr/bin/env bash
# SmartLens in one command.
#   ./run.sh          set up (.venv from requirements.txt + the package), create the demo guide, start the lens
#   ./run.sh test     set up, then run the whole test suite (what CI runs: browsers, nginx, trainings too)
#   ./run.sh test-fast  set up, then run the quick tests (those not marked slow)
#   ./run.sh test-slow  set up, then run only the slow end-to-end tests (browsers, nginx, trainings)
#   ./run.sh lint     set up, then check lint, import order, formatting and types
#   ./run.sh studio   set up, then start the curators' studio
# Extra arguments go to streamlit (lens/studio) or pytest (test).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

setup() {
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv ..."
    "$PY" -m venv .venv
  fi
  # reinstall only when the requirements or the package's metadata changed since the last install
  local stamp=.venv/.requirements.sha256
  local want
  want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing requirements (first time: a few minutes) ..."
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.txt
    # the package itself, editable: the apps and the CLI import the checkout as it is
    .venv/bin/python -m pip install --quiet --no-deps -e .
    echo "$want" > "$stamp"
  fi
}

cmd=${1:-lens}
[ $# -gt 0 ] && shift
setup
case "$cmd" in
  test)
    # everything, the end-to-end tests in real browsers included: what CI runs
    exec .venv/bin/python -m pytest "$@" ;;
  test-fast)
    # the quick tests, for a developer between changes (no browser, no nginx, no full training)
    exec .venv/bin/python -m pytest -m "not slow" "$@" ;;
  test-slow)
    # only the slow ones: real browsers, two replicas behind nginx, trainings to the end
    exec .venv/bin/python -m pytest -m slow "$@" ;;
  lint)
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    exec .venv/bin/mypy ;;
  lens|studio)
    .venv/bin/smartlens demo
    exec .venv/bin/smartlens "$cmd" --guide demo "$@" ;;
  *)
    echo "usage: ./run.sh [lens|studio|test|test-fast|test-slow|lint] [args...]" >&2; exit 2 ;;
esac
