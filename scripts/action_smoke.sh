#!/usr/bin/env bash
# CI's smoke test of the GitHub Action (.github/workflows/ci.yml, job `action`): start the
# bundled emulator in the background on a free loopback port, for the `uses: ./` steps that
# follow, and hand them its address through $GITHUB_ENV (printed as `export` lines when run
# outside GitHub Actions). The emulator runs until the job ends.
#
# Needs `reconciler` on the PATH (or RECONCILER=/path/to/reconciler), installed with the
# emulator extra (`pip install '.[emulator]'`). Every value here is a throwaway for the
# emulator: no real key or secret is involved.
set -euo pipefail

reconciler="${RECONCILER:-reconciler}"
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/reconciler-emulator.XXXXXX")"
api_key="action-smoke-key"

nohup "$reconciler" emulator --port 0 --port-file "$work/port" --api-key "$api_key" \
  >"$work/emulator.log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
  [ -s "$work/port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/emulator.log" >&2; exit 1; }
  sleep 0.1
done
if [ ! -s "$work/port" ]; then
  echo "the emulator did not start" >&2
  cat "$work/emulator.log" >&2
  exit 1
fi
base_url="http://127.0.0.1:$(cat "$work/port")"

settings=(
  "ULTRAVOX_BASE_URL=$base_url"
  "ULTRAVOX_API_KEY=$api_key"
  # The same emulator serves Threetone's batch calling (the BatchCall example of manifests/).
  "THREETONE_BASE_URL=$base_url"
  "THREETONE_API_KEY=$api_key"
  # The chat follow-up campaign of manifests/ signs its webhook with this secret.
  "ACME_WEBHOOK_SECRET=action-smoke-webhook-secret"
  "RECONCILER_EMULATOR_LOG=$work/emulator.log"
  "RECONCILER_EMULATOR_PID=$pid"
)
if [ -n "${GITHUB_ENV:-}" ]; then
  printf '%s\n' "${settings[@]}" >>"$GITHUB_ENV"
else
  printf 'export %q\n' "${settings[@]}"
fi
echo "Emulator running at $base_url (pid $pid)" >&2
