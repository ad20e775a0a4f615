package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

const loadResources = 20

// loadHCL is resource i of the load suite: 5 tasks in five phases, so that 20 first
// deployments make 100 UpdateService calls within seconds, twice ECS's burst of 50.
const loadHCL = `
resource "ecs_phased_deployment" "s%02[1]d" {
  cluster         = "prod"
  name            = "svc%02[1]d"
  task_definition = %[2]q
  desired_count   = 5

  phase { percent = 20 }
  phase { percent = 40 }
  phase { percent = 60 }
  phase { percent = 80 }
  phase { percent = 100 }

  steady_state_timeout = "2m"
}
`

func loadConfig(url, td string) string {
	var b strings.Builder
	b.WriteString(providerBlock(url))
	for i := range loadResources {
		fmt.Fprintf(&b, loadHCL, i, td)
	}
	return b.String()
}

// throttles counts the ThrottlingExceptions ecslocal returned after seq, by action.
func (e *env) throttles(seq int64) (int, map[string]int) {
	by := map[string]int{}
	total := 0
	for _, c := range e.srv.Calls() {
		if c.Seq > seq && c.ErrorCode == "ThrottlingException" {
			by[c.Action()]++
			total++
		}
	}
	return total, by
}

// TestLoad checks rollouts under load: 20 ecs_phased_deployment resources are deployed in one apply
// with -parallelism=20 against ecslocal with ECS's real token buckets on. Every deployment
// succeeds: the SDK's retries absorb the throttling (at least one ThrottlingException must occur,
// or the test proved nothing), whose count is reported. The provider block sets no max_retries: the
// default (25 retries, no client-side retry quota) must carry the load. With the SDK's own default
// of 3 attempts about half of the 20 first deployments failed here with "exceeded maximum number of
// attempts, 3 … ThrottlingException". Then all 20 are switched to a task definition whose tasks
// crash on start, in one apply: it fails with exactly 20 "rolled back" errors, and every old
// service is back at its 5 tasks, its capacity never below 5.
func TestLoad(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	started := time.Now()
	e := newEnv(t, ecslocal.Options{StartDelay: 50 * time.Millisecond, StopDelay: 20 * time.Millisecond})
	e.seedForeign()
	e.srv.SetThrottling(true)
	w := newWorkspace(t)

	// 20 first deployments.
	seq := e.lastSeq()
	w.write(loadConfig(e.url, tdHealthy1))
	w.apply("-parallelism=20")
	created, createdBy := e.throttles(seq)
	for i := range loadResources {
		name := fmt.Sprintf("svc%02d__1", i)
		if s := e.status(name); s == nil || s.Desired != 5 || s.Running != 5 || s.TaskDefinition != tdHealthy1 {
			t.Errorf("%s after the first apply: %+v, want 5 running %s", name, s, tdHealthy1)
		}
	}
	st := w.state()
	for i := range loadResources {
		a := st.attrs(fmt.Sprintf("s%02d", i))
		if str(a, "service_name") != fmt.Sprintf("svc%02d__1", i) || str(obj(a, "last_rollout"), "status") != "succeeded" {
			t.Errorf("s%02d in state: service_name %v, last_rollout %v", i, a["service_name"], a["last_rollout"])
		}
	}
	if created == 0 {
		t.Errorf("no ThrottlingException in the first apply: the load did not reach ECS's buckets, so nothing was proven")
	}
	t.Logf("apply 1 (20 creates): %d ThrottlingExceptions absorbed by the SDK's retries: %v", created, createdBy)

	// 20 failed rollouts, rolled back, in one apply.
	seq, mark := e.lastSeq(), e.timelineMark()
	w.write(loadConfig(e.url, tdCrash))
	code, out := w.run("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=20")
	rolled, rolledBy := e.throttles(seq)
	if code == 0 {
		t.Errorf("the apply of a crashing task definition succeeded:\n%s", tail(out))
	}
	if got := strings.Count(out, "Error: Deployment Rolled Back"); got != loadResources {
		t.Errorf("%d \"Deployment Rolled Back\" errors, want %d:\n%s", got, loadResources, tail(out))
	}
	if got := strings.Count(out, "Error: "); got != loadResources {
		t.Errorf("%d errors in all, want only the %d rollbacks:\n%s", got, loadResources, tail(out))
	}
	checks := 0
	for i := range loadResources {
		old, failed := fmt.Sprintf("svc%02d__1", i), fmt.Sprintf("svc%02d__2", i)
		if s := e.status(old); s == nil || s.Desired != 5 || s.Running != 5 || s.Pending != 0 {
			t.Errorf("%s after the rollback: %+v, want 5 running", old, s)
		}
		if s := e.status(failed); s == nil || s.Desired != 0 || s.Running != 0 || s.Pending != 0 {
			t.Errorf("%s after the rollback: %+v, want 0", failed, s)
		}
		checks += e.checkCapacity(mark, 5, fmt.Sprintf("svc%02d", i))
	}
	st = w.state()
	for i := range loadResources {
		a := st.attrs(fmt.Sprintf("s%02d", i))
		if str(a, "service_name") != fmt.Sprintf("svc%02d__1", i) || str(obj(a, "last_rollout"), "status") != "rolled_back" || num(a, "highest_revision") != 2 {
			t.Errorf("s%02d in state after the rollback: service_name %v, highest_revision %v, last_rollout %v", i, a["service_name"], a["highest_revision"], a["last_rollout"])
		}
	}
	foreign := e.checkForeignUntouched()
	t.Logf("apply 2 (20 rollbacks): %d ThrottlingExceptions absorbed by the SDK's retries: %v", rolled, rolledBy)
	t.Logf("load: 2 terraform applies of %d resources at -parallelism=20 with ECS throttling on, %d ThrottlingExceptions absorbed (%d + %d), 0 apply errors besides the %d expected rollbacks, %d capacity invariant checks, %d foreign services checked untouched, %d calls in all, %s",
		loadResources, created+rolled, created, rolled, loadResources, checks, foreign, len(e.providerCalls()), time.Since(started).Round(time.Second))
}
