#!/usr/bin/env bash
# One command to see StormCom running: migrate an embedded SQLite database, seed the demo store
# (once), start the server, and open the POS app. Ctrl-C stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
BIN=.venv/bin
export STORMCOM_DATABASE_URL="${STORMCOM_DATABASE_URL:-sqlite:///$PWD/var/stormcom-demo.db}"
mkdir -p var
"$BIN/stormcom-server" migrate
"$BIN/stormcom-server" seed-demo --if-empty
"$BIN/stormcom-server" serve &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT INT TERM
"$BIN/stormcom-pos" || true
wait $server_pid
