#!/usr/bin/env bash
# make demo: a canary rollout, a failed rollout rolled back in reverse phase order, and a
# post-production rollback, all through real `terraform` runs against ecslocal. No AWS account.
#
#   DEMO_PAUSE=1          wait for Enter between steps
#   DEMO_START_DELAY=1s   how long ecslocal takes to start a task (DEMO_STOP_DELAY: to stop one)
#   DEMO_CRASH_AFTER=4s   how long web:3's tasks run before they crash (in phase 3 of the demo)
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD"
export CHECKPOINT_DISABLE=1
start_delay="${DEMO_START_DELAY:-1s}"
stop_delay="${DEMO_STOP_DELAY:-300ms}"
crash_after="${DEMO_CRASH_AFTER:-4s}"

bold=$'\e[1m'; dim=$'\e[2m'; reset=$'\e[0m'
if [[ ! -t 1 ]]; then bold=""; dim=""; reset=""; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ecslocal-demo.XXXXXX")"
ecslocal_pid=""
cleanup() {
  if [[ -n "$ecslocal_pid" ]] && kill -0 "$ecslocal_pid" 2>/dev/null; then
    kill "$ecslocal_pid" 2>/dev/null || true
    wait "$ecslocal_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo interrupted"; exit 130' INT TERM

step=0
header() {
  step=$((step + 1))
  if [[ "${DEMO_PAUSE:-}" == "1" && $step -gt 1 ]]; then
    read -r -p "${dim}Press Enter for step $step…${reset}" _ </dev/tty || true
  fi
  printf '\n%s━━━ Step %d: %s ━━━%s\n' "$bold" "$step" "$*" "$reset"
}
say() { printf '%s%s%s\n' "$dim" "$*" "$reset"; }

status() {
  printf '\n%sServices in cluster demo (ecslocal):%s\n' "$bold" "$reset"
  "$root/bin/ecslocal" status -endpoint "$url" -cluster demo | sed 's/^/  /'
}

# tf runs terraform in the demo directory with TF_LOG_PROVIDER=INFO, so the provider logs each
# step of the rollout as it happens; the filter turns those log lines into "▸ message" and drops
# every other log line and Terraform's development-override notice.
tf() {
  (cd "$work/tf" && TF_LOG_PROVIDER=INFO "$root/bin/terraform" "$@" -no-color 2>&1) | progress
}
progress() {
  # The provider's own rollout lines are INFO/WARN lines that carry a cluster= field.
  sed -u -E \
    -e '/\[(INFO|WARN)\] +provider\.terraform-provider-ecs: .* cluster=/{s/.*provider\.terraform-provider-ecs: //; s/: [@a-z_]+=.*$//; s/^/    ▸ /; p; d}' \
    -e '/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[^ ]* \[[A-Z]+\]/d' \
    -e '/Provider development overrides are in effect/,/^$/d' \
    -e '/^(│|╷|╵) *$/d'
}

say "==> Building the provider and ecslocal; Terraform ${TERRAFORM_VERSION:-v1.5.7} from the Go module proxy if bin/ lacks it"
make -s build >/dev/null
go build -o bin/ecslocal ./cmd/ecslocal
make -s "$root/bin/terraform"

cat >"$work/seed.json" <<SEED
{
  "clusters": ["demo"],
  "taskDefinitions": [
    {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "dockerLabels": {"ecslocal.behavior": "healthy"}}]},
    {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:1.28", "dockerLabels": {"ecslocal.behavior": "healthy"}}]},
    {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:broken", "dockerLabels": {"ecslocal.behavior": "crash-after=$crash_after"}}]}
  ]
}
SEED
bin/ecslocal -addr 127.0.0.1:0 -addr-file "$work/addr" -region eu-west-1 -seed "$work/seed.json" -quiet \
  -start-delay "$start_delay" -stop-delay "$stop_delay" 2>"$work/ecslocal.log" &
ecslocal_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$work/addr" ]] && curl -fsS -o /dev/null "http://$(cat "$work/addr")/_ecslocal/status" 2>/dev/null && break
  kill -0 "$ecslocal_pid" 2>/dev/null || { cat "$work/ecslocal.log" >&2; exit 1; }
  sleep 0.1
done
url="http://$(tr -d '[:space:]' <"$work/addr")"
say "==> ecslocal is up at $url: tasks take $start_delay to start and $stop_delay to stop."
say "    Task definitions: web:1 and web:2 are healthy; web:3 crashes $crash_after after it starts."

mkdir -p "$work/tf"
cp examples/demo/main.tf "$work/tf/"
cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "phased-ecs/ecs" = "$root/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true
export TF_IN_AUTOMATION=1
vars() { echo "-var=endpoint=$url" "-var=task_definition=$1"; }

started=$(date +%s)

header "Create: web:1 at 4 tasks, in three phases (25 %, 50 %, 100 %)"
tf apply -auto-approve $(vars web:1) | sed -n '/▸\|Creat\|Apply complete/p'
status

header "Canary: web:2 through 25 / 50 / 100 — the plan first"
tf plan $(vars web:2) | sed -n '/Terraform will perform/,/Plan:/p'
tf apply -auto-approve $(vars web:2) | sed -n '/▸\|Modif\|Apply complete/p'
status

header "A bad release: web:3 fails in phase 3 and rolls back R3, R2, R1"
set +e
tf apply -auto-approve $(vars web:3) >"$work/step3.out"
code=${PIPESTATUS[0]}
set -e
sed -n '/▸\|Modif/p; /Error:/,$p' "$work/step3.out" | sed -E 's/^│ ?//'
say "terraform apply exited with code $code (an error is the expected outcome: the deployment was rolled back)"
status

header "Re-apply web:2: state is unchanged, so the plan is empty"
tf plan $(vars web:2) | sed -n '/No changes\|Plan:/p'

header "Post-production rollback: back to web:1, previewed in the plan"
tf plan $(vars web:1) | grep -E '^      [~+-] (planned_action|revision|service_name) |^Plan:' || true
tf apply -auto-approve $(vars web:1) | sed -n '/▸\|Modif\|Apply complete/p'
status

header "Destroy"
tf destroy -auto-approve $(vars web:1) | sed -n '/▸\|Destr/p'
status

printf '\n%sDemo finished in %ds.%s\n' "$bold" "$(( $(date +%s) - started ))" "$reset"
