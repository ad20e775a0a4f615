#!/usr/bin/env bash
# make demo: a canary rollout behind a load balancer's target group, a failed rollout rolled back
# in reverse phase order, a release whose tasks run but fail their health checks, and a
# post-production rollback, all through real `terraform` runs against ecslocal. No AWS account.
#
#   DEMO_PAUSE=1          wait for Enter between steps
#   DEMO_START_DELAY=1s   how long ecslocal takes to start a task (DEMO_STOP_DELAY: to stop one)
#   DEMO_CRASH_AFTER=4s   how long web:3's tasks run before they crash (in phase 3 of the demo)
#   DEMO_TIME_SCALE=0.01  ecslocal's factor on AWS's durations: the target group's 30 s health
#                         check interval takes 0.3 s, its 300 s deregistration delay 3 s
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD"
export CHECKPOINT_DISABLE=1
start_delay="${DEMO_START_DELAY:-1s}"
stop_delay="${DEMO_STOP_DELAY:-300ms}"
crash_after="${DEMO_CRASH_AFTER:-4s}"
time_scale="${DEMO_TIME_SCALE:-0.01}"

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

# errors shows a failed apply's progress and its error, without the lines that point at main.tf.
errors() {
  sed -n '/▸\|Modif/p; /Error:/,$p' "$1" | sed -E 's/^│ ?//' | sed '/^  with ecs_phased_deployment/,/^$/d'
}

say "==> Building the provider and ecslocal; Terraform ${TERRAFORM_VERSION:-v1.5.7} from the Go module proxy if bin/ lacks it"
make -s build >/dev/null
go build -o bin/ecslocal ./cmd/ecslocal
make -s "$root/bin/terraform"

# web:1 … web:4, each as image, ecslocal.behavior and ecslocal.elb-health (how the container answers
# the target group's health checks); one Application Load Balancer forwarding to target group web.
cat >"$work/seed.json" <<SEED
{
  "clusters": ["demo"],
  "taskDefinitions": [
$(for td in "nginx:1.27 healthy healthy" "nginx:1.28 healthy healthy" "nginx:broken crash-after=$crash_after healthy" "nginx:1.29-rc healthy unhealthy"; do
  read -r image behavior elb <<<"$td"
  printf '    {"family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512", "containerDefinitions": [{"name": "web", "image": "%s", "portMappings": [{"containerPort": 80}], "dockerLabels": {"ecslocal.behavior": "%s", "ecslocal.elb-health": "%s"}}]},\n' "$image" "$behavior" "$elb"
done | sed '$ s/,$//')
  ],
  "loadBalancers": [{"name": "demo", "targetGroups": [{"name": "web", "port": 80, "targetType": "ip"}]}]
}
SEED
bin/ecslocal -addr 127.0.0.1:0 -addr-file "$work/addr" -region eu-west-1 -seed "$work/seed.json" -quiet \
  -start-delay "$start_delay" -stop-delay "$stop_delay" -time-scale "$time_scale" 2>"$work/ecslocal.log" &
ecslocal_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$work/addr" ]] && curl -fsS -o /dev/null "http://$(cat "$work/addr")/_ecslocal/status" 2>/dev/null && break
  kill -0 "$ecslocal_pid" 2>/dev/null || { cat "$work/ecslocal.log" >&2; exit 1; }
  sleep 0.1
done
url="http://$(tr -d '[:space:]' <"$work/addr")"
tg_arn="$(curl -fsS "$url/_ecslocal/status" | grep -o '"arn": *"arn:aws:elasticloadbalancing:[^"]*:targetgroup/web/[^"]*"' | cut -d'"' -f4 || true)"
[[ -n "$tg_arn" ]] || { echo "ecslocal did not seed target group web" >&2; exit 1; }
say "==> ecslocal is up at $url: tasks take $start_delay to start and $stop_delay to stop."
say "    Load balancer demo forwards to target group web ($tg_arn);"
say "    at time scale $time_scale its health checks come every $(awk "BEGIN { print 30 * $time_scale }")s and a deregistered target drains for $(awk "BEGIN { print 300 * $time_scale }")s."
say "    Task definitions: web:1 and web:2 are healthy; web:3 crashes $crash_after after it starts;"
say "    web:4 runs but answers its health checks with 502."

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
vars() { echo "-var=endpoint=$url" "-var=target_group_arn=$tg_arn" "-var=task_definition=$1"; }

started=$(date +%s)

header "Create: web:1 at 4 tasks behind target group web, in three phases (25 %, 50 %, 100 %)"
tf apply -auto-approve $(vars web:1) | sed -n '/▸\|Creat\|Apply complete/p'
status

header "Canary: web:2 through 25 / 50 / 100 — the plan first"
tf plan $(vars web:2) | sed -n '/Terraform will perform/,/Plan:/p'
say "Each phase scales web__2 up and waits until its new tasks are healthy in target group web;"
say "only then does web__1 shrink, and it does not wait out the deregistration delay."
tf apply -auto-approve $(vars web:2) | sed -n '/▸\|Modif\|Apply complete/p'
status

header "A bad release: web:3 fails in phase 3 and rolls back R3, R2, R1"
set +e
tf apply -auto-approve $(vars web:3) >"$work/step3.out"
code=${PIPESTATUS[0]}
set -e
errors "$work/step3.out"
say "terraform apply exited with code $code (an error is the expected outcome: the deployment was rolled back)"
status

header "Running is not serving: web:4 runs but fails its health checks, and rolls back in phase 1"
set +e
tf apply -auto-approve $(vars web:4) >"$work/step4.out"
code=${PIPESTATUS[0]}
set -e
errors "$work/step4.out"
say "terraform apply exited with code $code: web__2 never shrank, since web__4's task never served"
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
