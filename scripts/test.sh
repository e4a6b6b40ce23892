#!/usr/bin/env bash
# One command for the whole suite: sets up (PostgreSQL included), then runs pytest. The tests
# start their own throwaway PostgreSQL cluster on loopback; database tests run on SQLite and on
# PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
