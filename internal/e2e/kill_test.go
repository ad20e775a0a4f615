package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// rolloutHCL is the deployment TestKillAndResume and TestCtrlC roll out: 4 tasks in three phases
// (25, 50 and 100 %), with auto scaling, keeping one old service besides the previous one.
const rolloutHCL = `
resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = %q
  desired_count   = 4

  phase { percent = 25 }
  phase { percent = 50 }
  phase { percent = 100 }

  auto_scaling {
    min_capacity = 2
    max_capacity = 8
    target_tracking {
      name                   = "cpu60"
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
      target_value           = 60
    }
  }

  retain_old_services  = 1
  steady_state_timeout = "1m"
}
`

// rolloutWrites are the write calls of the rollout of web:2 over web__1 at 4, in order.
var rolloutWrites = []string{
	"application-autoscaling:DeregisterScalableTarget service/prod/web__1",
	"ecs:CreateService web__2",
	"ecs:UpdateService web__2", // phase 1: up to 1
	"ecs:UpdateService web__1", // phase 1: down to 3
	"ecs:UpdateService web__2", // phase 2: up to 2
	"ecs:UpdateService web__1", // phase 2: down to 2
	"ecs:UpdateService web__2", // phase 3: up to 4
	"ecs:UpdateService web__1", // phase 3: down to 0
	"application-autoscaling:RegisterScalableTarget service/prod/web__2",
	"application-autoscaling:PutScalingPolicy service/prod/web__2",
}

// trigger is where in a rollout a signal is sent: at the k-th write call (after ecslocal
// applied it, before its response leaves: the provider never learns it succeeded), or at the
// first read call after the k-th write (its response received: the provider is waiting).
type trigger struct {
	k         int
	afterRead bool
}

func (tr trigger) String() string {
	if tr.afterRead {
		return fmt.Sprintf("while waiting after write %d (%s)", tr.k, rolloutWrites[tr.k-1])
	}
	return fmt.Sprintf("at write %d (%s), before its response", tr.k, rolloutWrites[tr.k-1])
}

// arm sets a hook that calls fire once when the trigger point is reached by calls after seq.
func (e *env) arm(tr trigger, fire func(ecslocal.Call)) *atomic.Bool {
	seq := int64(0)
	if calls := e.srv.Calls(); len(calls) > 0 {
		seq = calls[len(calls)-1].Seq
	}
	var once sync.Once
	fired := &atomic.Bool{}
	e.setHook(func(calls []ecslocal.Call) {
		writes, kthSeq := 0, int64(-1)
		for _, c := range calls {
			if c.Seq <= seq {
				continue
			}
			if c.Write {
				writes++
				if writes == tr.k {
					kthSeq = c.Seq
				}
			}
		}
		last := calls[len(calls)-1]
		hit := kthSeq >= 0 && (!tr.afterRead && last.Seq == kthSeq || tr.afterRead && last.Seq > kthSeq && !last.Write)
		if hit {
			once.Do(func() {
				fired.Store(true)
				fire(last)
			})
		}
	})
	return fired
}

// writesAfter lists the write calls after seq as "action resource".
func (e *env) writesAfter(seq int64) []string {
	var out []string
	for _, c := range e.srv.Calls() {
		if c.Seq > seq && c.Write {
			out = append(out, c.Action()+" "+c.Resource)
		}
	}
	return out
}

func (e *env) lastSeq() int64 {
	calls := e.srv.Calls()
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

// suiteCounts are reported by each test's closing log line.
type suiteCounts struct {
	runs, signals, checks, foreign atomic.Int64
}

// TestKillAndResume checks that a killed apply resumes safely: `terraform apply` of a 3-phase
// rollout is SIGKILLed, terraform and the provider plugin together, at 10 points spread over the
// rollout (each write call, half of them mid-wait). A second `terraform apply` must converge: the
// requested task definition in production at the desired count, no other service of the deployment
// holding tasks, retention respected, auto scaling on production only, and an empty plan after. On
// ecslocal's timeline the deployment's running tasks never drop below P = 4 from the start of the
// killed apply to the end of the second.
func TestKillAndResume(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	var n suiteCounts
	var lockLeft atomic.Int64
	started := time.Now()
	var triggers []trigger
	var names []string
	for k := 1; k <= len(rolloutWrites); k++ {
		tr := trigger{k: k, afterRead: k%2 == 1 && k < 9}
		triggers = append(triggers, tr)
		names = append(names, fmt.Sprintf("%02d killed %s", k, tr))
	}
	concurrently(t, 4, names, func(t *testing.T, i int) {
		tr := triggers[i]
		k := tr.k
		e := newEnv(t, ecslocal.Options{})
		e.seedForeign()
		w := newWorkspace(t)
		w.write(providerBlock(e.url) + fmt.Sprintf(rolloutHCL, tdHealthy1))
		w.apply()
		n.runs.Add(1)

		w.write(providerBlock(e.url) + fmt.Sprintf(rolloutHCL, tdHealthy2))
		mark, seq := e.timelineMark(), e.lastSeq()
		var p atomic.Pointer[proc]
		fired := e.arm(tr, func(ecslocal.Call) {
			// The response is written only once the whole group is dead: the provider never
			// learns the outcome of a write it was killed at.
			p.Load().killGroup()
			p.Load().groupGone(5 * time.Second)
		})
		p.Store(w.start("apply", "-auto-approve", "-input=false", "-no-color"))
		code, out := p.Load().wait()
		e.setHook(nil)
		n.runs.Add(1)
		if !fired.Load() {
			t.Fatalf("terraform apply ended (exit %d) before the kill point:\n%s", code, tail(out))
		}
		n.signals.Add(1)
		if alive := p.Load().groupGone(5 * time.Second); len(alive) > 0 {
			t.Fatalf("processes of the killed group still alive: %v", alive)
		}
		if got := e.writesAfter(seq); !reflect.DeepEqual(got, rolloutWrites[:k]) {
			t.Fatalf("the killed apply wrote %q, want %q", got, rolloutWrites[:k])
		}
		if _, err := os.Stat(filepath.Join(w.dir, ".terraform.tfstate.lock.info")); err == nil {
			lockLeft.Add(1)
		}

		// The second apply, with locking on: a dead process holds no lock.
		w.apply()
		n.runs.Add(1)
		want := "web__4" // the killed run created web__2; web__3 is held by a foreign service
		if k == 1 {
			want = "web__2"
		}
		e.checkConverged(w, want, tdHealthy2, "web__1", 4)
		n.checks.Add(int64(e.checkCapacity(mark, 4, "web")))
		n.foreign.Add(int64(e.checkForeignUntouched()))
		w.planEmpty()
		n.runs.Add(1)
	})
	t.Logf("kill and resume: %d terraform runs, %d SIGKILLs of terraform + provider, %d capacity invariant checks on the timeline, %d foreign services checked untouched, %s; "+
		"%d killed runs left .terraform.tfstate.lock.info behind, and the next apply ran with locking on regardless",
		n.runs.Load(), n.signals.Load(), n.checks.Load(), n.foreign.Load(), time.Since(started).Round(time.Second), lockLeft.Load())
}

// checkConverged asserts the end state of a converged deployment web in state and in
// ecslocal: prod runs td at count with auto scaling, previous is recorded, every other service
// of the deployment is at 0 with no scaling, and at most retain_old_services = 1 zero-count
// services besides previous are kept.
func (e *env) checkConverged(w *workspace, prod, td, previous string, count int) {
	e.t.Helper()
	a := w.state().attrs("web")
	if a == nil {
		e.t.Fatal("ecs_phased_deployment.web is not in state")
	}
	cur, prev, last := obj(a, "current"), obj(a, "previous"), obj(a, "last_rollout")
	if str(cur, "service_name") != prod || num(cur, "desired_count") != count || !strings.HasSuffix(str(cur, "task_definition"), "/"+td) ||
		str(a, "service_name") != prod || num(a, "revision") != num(cur, "revision") {
		e.t.Errorf("state: current %v, service_name %v, want %s at %d running %s", cur, a["service_name"], prod, count, td)
	}
	if str(prev, "service_name") != previous || num(prev, "desired_count") != count {
		e.t.Errorf("state: previous %v, want %s at %d", prev, previous, count)
	}
	if str(last, "status") != "succeeded" || num(last, "revision") != num(cur, "revision") {
		e.t.Errorf("state: last_rollout %v", last)
	}
	owned := e.owned()
	zero := 0
	for _, s := range e.srv.Status().Services {
		if !owned[s.Name] || s.Status != "ACTIVE" {
			continue
		}
		switch s.Name {
		case prod:
			if s.TaskDefinition != td || s.Desired != count || s.Running != count || s.Pending != 0 {
				e.t.Errorf("production %s in ecslocal: %+v, want %s at %d running", s.Name, s, td, count)
			}
			if s.AutoScaling == nil || s.AutoScaling.Min != 2 || s.AutoScaling.Max != 8 || !reflect.DeepEqual(s.AutoScaling.Policies, []string{"cpu60"}) {
				e.t.Errorf("auto scaling of %s: %+v, want 2–8 with cpu60", s.Name, s.AutoScaling)
			}
		default:
			if s.Desired != 0 || s.Running != 0 || s.Pending != 0 || s.AutoScaling != nil {
				e.t.Errorf("%s holds tasks or scaling: %+v", s.Name, s)
			}
			if s.Name != previous {
				zero++
			}
		}
	}
	if zero > 1 {
		e.t.Errorf("%d zero-count services kept besides previous, retain_old_services = 1: %+v", zero, e.srv.Status().Services)
	}
}
