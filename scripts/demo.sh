#!/usr/bin/env bash
# Starts ecslocal, the local ECS and Application Auto Scaling endpoint, on a free loopback port,
# waits until it answers, and prints how to point the AWS CLI and the provider at it.
#
#   DEMO_KEEP=1  keep ecslocal running until Ctrl-C (default: stop it after the instructions)
#   DEMO_ADDR    listen address (default 127.0.0.1:0, a free port)
set -euo pipefail

cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1

bin_dir="$PWD/bin"
work_dir="$(mktemp -d "${TMPDIR:-/tmp}/ecslocal-demo.XXXXXX")"
ecslocal_pid=""

cleanup() {
  if [[ -n "$ecslocal_pid" ]] && kill -0 "$ecslocal_pid" 2>/dev/null; then
    echo "==> Stopping ecslocal (pid $ecslocal_pid)"
    kill "$ecslocal_pid" 2>/dev/null || true
    wait "$ecslocal_pid" 2>/dev/null || true
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> Building ecslocal into bin/"
mkdir -p "$bin_dir"
go build -o "$bin_dir/ecslocal" ./cmd/ecslocal

echo "==> Starting ecslocal"
"$bin_dir/ecslocal" -addr "${DEMO_ADDR:-127.0.0.1:0}" -addr-file "$work_dir/addr" \
  2>"$work_dir/ecslocal.log" &
ecslocal_pid=$!

# The address file appears once ecslocal listens; then its control endpoint must answer.
addr=""
for _ in $(seq 1 100); do
  if ! kill -0 "$ecslocal_pid" 2>/dev/null; then
    echo "ecslocal exited early; its log:" >&2
    cat "$work_dir/ecslocal.log" >&2
    exit 1
  fi
  if [[ -z "$addr" && -s "$work_dir/addr" ]]; then
    addr="$(tr -d '[:space:]' <"$work_dir/addr")"
  fi
  if [[ -n "$addr" ]] && curl -fsS -o /dev/null "http://$addr/_ecslocal/status" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [[ -z "$addr" ]] || ! curl -fsS -o /dev/null "http://$addr/_ecslocal/status"; then
  echo "ecslocal did not answer on /_ecslocal/status within 10 s; its log:" >&2
  cat "$work_dir/ecslocal.log" >&2
  exit 1
fi
url="http://$addr"

cat <<INSTRUCTIONS

==> ecslocal is up at $url (pid $ecslocal_pid)

AWS CLI (any dummy credentials work):

  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url $url ecs create-cluster --cluster-name prod
  aws --endpoint-url $url ecs describe-clusters --clusters prod

Provider block:

  provider "ecs" {
    region = "us-east-1"
    endpoints {
      ecs                     = "$url"
      application_autoscaling = "$url"
      cloudwatch              = "$url"
    }
  }

Or, without an endpoints block: export AWS_ENDPOINT_URL=$url

What ecslocal holds: curl -s $url/_ecslocal/status

INSTRUCTIONS

if [[ "${DEMO_KEEP:-0}" == "1" ]]; then
  echo "==> DEMO_KEEP=1: ecslocal keeps running; press Ctrl-C to stop it."
  wait "$ecslocal_pid"
else
  echo "==> Done. Run 'DEMO_KEEP=1 make demo' to keep ecslocal running."
fi
