package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
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
    scheduled_action {
      name         = "morning"
      schedule     = "cron(0 8 1 1 ? 2099)"
      timezone     = "Europe/Berlin"
      min_capacity = 4
      max_capacity = 8
    }
  }

  retain_old_services  = 1
  steady_state_timeout = "1m"
}
`

// balancedServiceHCL is the service block of the load-balanced variant of the rollout: awsvpc
// tasks in two subnets, registered in a target group as container web on a port.
const balancedServiceHCL = `
  service {
    network_configuration {
      subnets = ["subnet-a", "subnet-b"]
    }
    load_balancer {
      target_group_arn = %q
      container_name   = "web"
      container_port   = %d
    }
  }
`

// The load-balanced variant's setting: AWS's default target group health settings (a check
// every 30 s, a 300 s deregistration delay) under a time scale of 1/100, and two task
// definitions of family web, awsvpc, whose container web maps port balancedPort and passes its
// ELB health checks: web:4 and web:5, after those newEnv registers.
const (
	balancedScale = 0.01
	balancedPort  = 8080
	tdBalanced1   = "web:4"
	tdBalanced2   = "web:5"
)

// rolloutVariant is the rollout TestKillAndResume runs: plainly, or behind a load balancer.
type rolloutVariant struct {
	name          string
	balanced      bool
	prodTD, newTD string
}

var rolloutVariants = []rolloutVariant{
	{name: "plain rollout", prodTD: tdHealthy1, newTD: tdHealthy2},
	{name: "load-balanced rollout", balanced: true, prodTD: tdBalanced1, newTD: tdBalanced2},
}

// newEnv starts the env of the variant: for the load-balanced one, ecslocal under the time scale
// with load balancer "front" forwarding to ip target group "web" and tdBalanced1 and tdBalanced2
// registered. It returns the target group's ARN, or "" for the plain rollout.
func (v rolloutVariant) newEnv(t *testing.T) (*env, string) {
	t.Helper()
	if !v.balanced {
		return newEnv(t, ecslocal.Options{}), ""
	}
	e := newEnv(t, ecslocal.Options{TimeScale: balancedScale})
	td := json.RawMessage(fmt.Sprintf(`{"family":"web","networkMode":"awsvpc","containerDefinitions":[{"name":"web","image":"nginx","essential":true,`+
		`"portMappings":[{"containerPort":%d}],"dockerLabels":{"ecslocal.elb-health":"healthy"}}]}`, balancedPort))
	if err := e.srv.ApplySeed(ecslocal.Seed{
		TaskDefinitions: []json.RawMessage{td, td},
		LoadBalancers: []ecslocal.SeedLoadBalancer{{Name: "front", TargetGroups: []ecslocal.SeedTargetGroup{
			{Name: "web", Port: balancedPort, TargetType: "ip"},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	tg, ok := e.srv.TargetGroupArn("web")
	if !ok {
		t.Fatal("target group web was not seeded")
	}
	return e, tg
}

// config is the rollout's configuration deploying td, behind target group tg when it is set.
func (v rolloutVariant) config(url, td, tg string) string {
	hcl := fmt.Sprintf(rolloutHCL, td)
	if v.balanced {
		end := strings.LastIndex(hcl, "}")
		hcl = hcl[:end] + fmt.Sprintf(balancedServiceHCL, tg, balancedPort) + hcl[end:]
	}
	return providerBlock(url) + hcl
}

// checkServing asserts the serving-capacity invariant behind a load balancer on ecslocal's
// timeline from entry from on: the targets that target group tg reports healthy, summed over
// every service (ecslocal.ServingTimeline), never drop below floor. The revision deployed is
// healthy, so no dip is the new revision's own. It returns how many instants it checked.
func (e *env) checkServing(from, floor int, tg string) int {
	e.t.Helper()
	timeline := e.srv.Timeline()
	if from < 1 || from > len(timeline) {
		e.t.Fatalf("timeline mark %d of %d entries", from, len(timeline))
	}
	start := timeline[from-1].Time // the instant of the last entry before the mark
	points := ecslocal.ServingTimeline(timeline, tg)
	checks := 0
	var seen []string
	for i, p := range points {
		if p.Time.Before(start) && (i+1 < len(points) && !points[i+1].Time.After(start)) {
			continue // superseded before the mark
		}
		checks++
		seen = append(seen, fmt.Sprintf("+%s:%d", p.Time.Sub(start).Round(time.Millisecond), p.Healthy))
		if p.Healthy < floor {
			e.t.Errorf("serving capacity of target group web dipped to %d healthy targets (< %d) at %s; since the mark: %s",
				p.Healthy, floor, p.Time.Format("15:04:05.000"), strings.Join(seen, " "))
			return checks
		}
	}
	return checks
}

// rolloutWrites are the write calls of the rollout of web:2 over web__1 at 4, in order (an ECS
// ARN as the resource that follows its account).
var rolloutWrites = []string{
	"ecs:TagResource service/prod/web__1",                                // the auto scaling suspension it had: none
	"application-autoscaling:RegisterScalableTarget service/prod/web__1", // suspended
	"ecs:CreateService web__2",
	"ecs:UpdateService web__2", // phase 1: up to 1
	"ecs:UpdateService web__1", // phase 1: down to 3
	"ecs:UpdateService web__2", // phase 2: up to 2
	"ecs:UpdateService web__1", // phase 2: down to 2
	"ecs:UpdateService web__2", // phase 3: up to 4
	"ecs:UpdateService web__1", // phase 3: down to 0
	"application-autoscaling:RegisterScalableTarget service/prod/web__2",
	"application-autoscaling:PutScalingPolicy service/prod/web__2",
	"application-autoscaling:PutScheduledAction service/prod/web__2",
	"application-autoscaling:DeregisterScalableTarget service/prod/web__1",
	"ecs:UntagResource service/prod/web__1",
}

// trigger is where in a rollout a signal is sent: at the k-th write call (after ecslocal
// applied it, before its response leaves: the provider never learns it succeeded), or at the
// first call after the k-th write: a read (its response received: the provider is waiting), or,
// when the provider writes again without reading first, that (k+1)-th write, before its
// response.
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
			if c.Seq <= seq || e.isRetry(c) {
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
		hit := kthSeq >= 0 && (!tr.afterRead && last.Seq == kthSeq || tr.afterRead && last.Seq > kthSeq)
		if hit {
			once.Do(func() {
				fired.Store(true)
				fire(last)
			})
		}
	})
	return fired
}

// writesAfter lists the write calls the provider made after seq as "action resource": the
// SDK's retry attempts of a call are not calls of their own.
func (e *env) writesAfter(seq int64) []string {
	var out []string
	for _, c := range e.srv.Calls() {
		if c.Seq > seq && c.Write && !e.isRetry(c) {
			res := c.Resource
			if strings.HasPrefix(res, "arn:") {
				res = res[strings.LastIndex(res, ":")+1:]
			}
			out = append(out, c.Action()+" "+res)
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
// rollout is SIGKILLed, terraform and the provider plugin together, at 14 points spread over the
// rollout (each write call; at the suspension and the phases' scale-ups, while the wait that
// follows reads). At every kill point production holds a registered scalable target with its
// policy and scheduled action. A second `terraform apply` must converge: the requested task
// definition in production at the desired count, no other service of the deployment holding
// tasks, retention respected, auto scaling (policy and scheduled action, nothing suspended) on
// production only, no suspension tag left, and an empty plan after. On
// ecslocal's timeline the deployment's running tasks never drop below P = 4 from the start of the
// killed apply to the end of the second. The suite runs the rollout plainly and behind a load
// balancer (awsvpc tasks in an ip target group with AWS's default health settings under a time
// scale), where the target group's healthy targets must never drop below P either.
func TestKillAndResume(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	var n suiteCounts
	var lockLeft, servingChecks atomic.Int64
	started := time.Now()
	var triggers []trigger
	var names []string
	for k := 1; k <= len(rolloutWrites); k++ {
		tr := trigger{k: k, afterRead: k%2 == 0 && k < 9}
		triggers = append(triggers, tr)
		names = append(names, fmt.Sprintf("%02d killed %s", k, tr))
	}
	variants := make([]string, 0, len(rolloutVariants))
	for _, v := range rolloutVariants {
		variants = append(variants, v.name)
	}
	// Two variants at a time, each two kill points at a time.
	concurrently(t, len(variants), variants, func(t *testing.T, vi int) {
		killAndResume(t, rolloutVariants[vi], triggers, names, &n, &lockLeft, &servingChecks)
	})
	t.Logf("kill and resume: %d terraform runs, %d SIGKILLs of terraform + provider, %d capacity invariant checks on the timeline, %d serving-capacity checks behind the load balancer, %d foreign services checked untouched, %s; "+
		"%d killed runs left .terraform.tfstate.lock.info behind, and the next apply ran with locking on regardless",
		n.runs.Load(), n.signals.Load(), n.checks.Load(), servingChecks.Load(), n.foreign.Load(), time.Since(started).Round(time.Second), lockLeft.Load())
}

// killAndResume runs TestKillAndResume's kill points for one variant of the rollout.
func killAndResume(t *testing.T, v rolloutVariant, triggers []trigger, names []string, n *suiteCounts, lockLeft, servingChecks *atomic.Int64) {
	concurrently(t, 2, names, func(t *testing.T, i int) {
		tr := triggers[i]
		k := tr.k
		e, tg := v.newEnv(t)
		e.seedForeign()
		w := newWorkspace(t, providerLogEnv()...)
		w.write(v.config(e.url, v.prodTD, tg))
		w.apply()
		n.runs.Add(1)

		w.write(v.config(e.url, v.newTD, tg))
		mark, seq := e.timelineMark(), e.lastSeq()
		var p atomic.Pointer[proc]
		var at atomic.Pointer[ecslocal.Call] // the call the kill came at
		fired := e.arm(tr, func(c ecslocal.Call) {
			at.Store(&c)
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
		if tr.afterRead && at.Load().Write {
			// No read came between the k-th write and the next: the kill came at that one.
			k++
		}
		if got := e.writesAfter(seq); !reflect.DeepEqual(got, rolloutWrites[:k]) {
			t.Fatalf("the killed apply wrote %q, want %q; its output:\n%s", got, rolloutWrites[:k], tail(out))
		}
		e.checkProductionScaling(k)
		if _, err := os.Stat(filepath.Join(w.dir, ".terraform.tfstate.lock.info")); err == nil {
			lockLeft.Add(1)
		}

		// The second apply, with locking on: a dead process holds no lock.
		w.apply()
		n.runs.Add(1)
		want := "web__4" // the killed run created web__2; web__3 is held by a foreign service
		if k < 3 {
			want = "web__2"
		}
		e.checkConverged(w, want, v.newTD, "web__1", 4)
		n.checks.Add(int64(e.checkCapacity(mark, 4, "web")))
		if v.balanced {
			servingChecks.Add(int64(e.checkServing(mark, 4, tg)))
			if s := e.status(want); s == nil || len(s.TargetGroups) != 1 || s.TargetGroups[0].Healthy != 4 {
				t.Errorf("production %s's targets: %+v, want 4 healthy in target group web", want, s)
			}
		}
		n.foreign.Add(int64(e.checkForeignUntouched()))
		w.planEmpty()
		n.runs.Add(1)
	})
}

// providerLogEnv passes E2E_TF_LOG_PROVIDER on as TF_LOG_PROVIDER, so that the output a failed
// kill point quotes shows the provider's log: E2E_TF_LOG_PROVIDER=INFO shows each engine step.
func providerLogEnv() []string {
	if v := os.Getenv("E2E_TF_LOG_PROVIDER"); v != "" {
		return []string{"TF_LOG_PROVIDER=" + v}
	}
	return nil
}

// checkProductionScaling asserts that, after a kill at rollout write k, production holds a
// registered scalable target with its policy and scheduled action: web__1 (suspended once
// write 2 suspended it) until web__2's scaling is complete at write 12, then web__2.
func (e *env) checkProductionScaling(k int) {
	e.t.Helper()
	prod, suspended := "web__1", []string{}
	switch {
	case k >= 12:
		prod = "web__2"
	case k >= 2:
		suspended = []string{"in", "out", "scheduled"}
	}
	s := e.status(prod)
	if s == nil || s.AutoScaling == nil || !reflect.DeepEqual(s.AutoScaling.Policies, []string{"cpu60"}) ||
		!reflect.DeepEqual(s.AutoScaling.ScheduledActions, []string{"morning"}) || !reflect.DeepEqual(s.AutoScaling.Suspended, suspended) {
		var as any
		if s != nil {
			as = s.AutoScaling
		}
		e.t.Errorf("killed after write %d: production %s's auto scaling %+v, want cpu60 and morning, suspended %v", k, prod, as, suspended)
	}
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
		if v, ok := s.Tags[deploy.SuspendedTag]; ok {
			e.t.Errorf("%s still carries %s = %q", s.Name, deploy.SuspendedTag, v)
		}
		switch s.Name {
		case prod:
			if s.TaskDefinition != td || s.Desired != count || s.Running != count || s.Pending != 0 {
				e.t.Errorf("production %s in ecslocal: %+v, want %s at %d running", s.Name, s, td, count)
			}
			if s.AutoScaling == nil || s.AutoScaling.Min != 2 || s.AutoScaling.Max != 8 || !reflect.DeepEqual(s.AutoScaling.Policies, []string{"cpu60"}) ||
				!reflect.DeepEqual(s.AutoScaling.ScheduledActions, []string{"morning"}) || len(s.AutoScaling.Suspended) != 0 {
				e.t.Errorf("auto scaling of %s: %+v, want 2–8 with cpu60 and morning, nothing suspended", s.Name, s.AutoScaling)
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
