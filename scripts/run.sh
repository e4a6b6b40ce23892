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
"$BIN/stormcom-server" serve --host 127.0.0.1 --port "${STORMCOM_PORT:-8000}" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT INT TERM

# The demo till: its own data directory, prefilled with this server and a fresh pairing code the
# first time (press Enter to pair). Its device credential goes to an encrypted file because a
# fresh machine often has no OS keyring; the passphrase here is for the demo only.
till_dir="$PWD/var/till"
export STORMCOM_POS_SERVER_URL="http://127.0.0.1:${STORMCOM_PORT:-8000}"
export STORMCOM_POS_CREDENTIAL_FILE="$till_dir/device-credential.enc"
export STORMCOM_POS_CREDENTIAL_PASSPHRASE="${STORMCOM_POS_CREDENTIAL_PASSPHRASE:-demo-till-only}"
if [ ! -f "$STORMCOM_POS_CREDENTIAL_FILE" ]; then
    STORMCOM_POS_PAIRING_CODE="$("$BIN/stormcom-server" pair-terminal --store demo --name "Till 1" --quiet)"
    export STORMCOM_POS_PAIRING_CODE
fi
"$BIN/stormcom-pos" --data-dir "$till_dir" || true
kill $server_pid 2>/dev/null || true
wait $server_pid 2>/dev/null || true
