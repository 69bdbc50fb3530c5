#!/usr/bin/env bash
# `make demo`: validate, plan, apply, plan the example manifests against the bundled emulator.
# The emulator starts on a free loopback port with a throwaway state and stops on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
WORK=.demo
rm -rf "$WORK" && mkdir -p "$WORK"

export ULTRAVOX_API_KEY=demo-key
# The chat follow-up campaign signs its webhook with a secret that only comes from here.
export ACME_WEBHOOK_SECRET=demo-webhook-secret
"$BIN/reconciler" emulator --port 0 --port-file "$WORK/port" --api-key "$ULTRAVOX_API_KEY" \
  >"$WORK/emulator.log" 2>&1 &
EMULATOR=$!
trap 'kill "$EMULATOR" 2>/dev/null; wait "$EMULATOR" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  [ -s "$WORK/port" ] && break
  kill -0 "$EMULATOR" 2>/dev/null || { cat "$WORK/emulator.log"; exit 1; }
  sleep 0.1
done
[ -s "$WORK/port" ] || { echo "the emulator did not start" >&2; cat "$WORK/emulator.log"; exit 1; }
export ULTRAVOX_BASE_URL="http://127.0.0.1:$(cat "$WORK/port")"
# The same emulator serves Threetone's batch-calling API for the BatchCall example.
export THREETONE_BASE_URL="$ULTRAVOX_BASE_URL" THREETONE_API_KEY="$ULTRAVOX_API_KEY"
echo "Emulator running at $ULTRAVOX_BASE_URL"

# Each command is shown before it runs, in bold on a terminal only: `make demo > demo.log`
# (or a CI log) gets no escape codes, and NO_COLOR set to anything turns bold off too.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  BOLD=$'\033[1m' PLAIN=$'\033[0m'
else
  BOLD='' PLAIN=''
fi
step() { printf '\n%s$ %s%s\n' "$BOLD" "$*" "$PLAIN"; "$@"; }

step "$BIN/reconciler" validate manifests/
# The plan is printed once, and saved; apply runs exactly that reviewed plan (it prints where
# it acts and the summary, then a line per change), not a second copy of it.
step "$BIN/reconciler" plan --out "$WORK/plan.json" manifests/
step "$BIN/reconciler" apply --plan "$WORK/plan.json"
step "$BIN/reconciler" plan --detailed-exitcode manifests/
echo
echo "Demo complete: the second plan shows no changes."
