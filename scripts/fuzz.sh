#!/usr/bin/env bash
# Runs each fuzz target of the engine for a bounded time: the phase arithmetic
# (FuzzPlanPhases) and the revision names (FuzzParseRevision). Plain `go test` runs
# only their seeds; this explores beyond them. A failing input is written under
# internal/deploy/testdata/fuzz/<target>/, where `go test` replays it from then on.
#
#   FUZZTIME=15s   how long each target runs (anything -fuzztime takes, e.g. 10000x)
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-15s}"

for target in FuzzPlanPhases FuzzParseRevision; do
	echo "==> ${target} for ${fuzztime}"
	go test ./internal/deploy -run '^$' -fuzz "^${target}\$" -fuzztime "${fuzztime}"
done
