package deploy_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// logHook is the engine's logger with an action run, synchronously, when the engine logs a
// given message: the engine's next call sees what the action did.
type logHook struct {
	*recLog
	at     string // the message, at any level
	action func()
	done   bool
}

func (l *logHook) fire(msg string) {
	if msg == l.at && !l.done {
		l.done = true
		l.action()
	}
}

func (l *logHook) Info(ctx context.Context, msg string, fields map[string]any) {
	l.fire(msg)
	l.recLog.Info(ctx, msg, fields)
}

func (l *logHook) Warn(ctx context.Context, msg string, fields map[string]any) {
	l.fire(msg)
	l.recLog.Warn(ctx, msg, fields)
}

// onLog runs action when the engine logs msg.
func (e *env) onLog(msg string, action func()) {
	e.eng.Log = &logHook{recLog: e.log, at: msg, action: action}
}

// TestRollbackThatCannotComplete covers a rollback that an API error stops (DESIGN.md §8): the
// report says what is live and that applying again resumes, and applying again does.
func TestRollbackThatCannotComplete(t *testing.T) {
	t.Parallel()
	t.Run("a rollback whose scale-down is refused reports the live counts, and the next apply finishes the job", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := e.mustDeploy(baseConfig(tdHealthy1, 8), deploy.State{})
		// Once the rollback begins, every UpdateService is refused.
		e.onLog(rollbackBegins, func() {
			e.srv.InjectFault(ecslocal.Fault{Operation: "UpdateService", Count: -1, Code: "AccessDeniedException", Message: "Injected fault."})
		})
		res, err := e.eng.Deploy(context.Background(), baseConfig(tdCrash, 8), prior)
		e.srv.ClearFaults()
		re := rolloutError(t, err)
		if re.RolledBack || re.RollbackErr == nil || !strings.Contains(re.RollbackErr.Error(), "AccessDeniedException") {
			t.Errorf("rolled back %v, rollback error %v; want a rollback stopped by AccessDeniedException", re.RolledBack, re.RollbackErr)
		}
		// Phase 1 failed before web__1 shrank, so R1 had only web__2 to scale down.
		want := []deploy.LiveCount{{Service: "web__1", Desired: 8, Running: 8}, {Service: "web__2", Desired: 2, Running: 0}}
		if !reflect.DeepEqual(re.Live, want) {
			t.Errorf("live counts %+v, want %+v", re.Live, want)
		}
		for _, s := range []string{"the rollback did not complete", "live now:", "web__1: desired 8, running 8", "web__2: desired 2", "applying again resumes safely"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("the report does not say %q:\n%v", s, err)
			}
		}
		if res == nil || !reflect.DeepEqual(res.Current, prior.Current) || res.HighestRevision != 2 {
			t.Fatalf("result %+v, want production unchanged and revision 2 counted", res)
		}

		e.eng.Log = e.log
		m := e.mark()
		st := e.mustDeploy(baseConfig(tdHealthy2, 8), res.State)
		if st.Current.Name != "web__3" || st.Previous.Name != "web__1" {
			t.Errorf("after applying again: current %+v previous %+v, want web__3 over web__1", st.Current, st.Previous)
		}
		// The failed revision is scaled to 0 before the new one starts.
		if first, up := e.callIndex(m, "ecs:UpdateService", "web__2", false), e.callIndex(m, "ecs:UpdateService", "web__3", false); first < 0 || first > up {
			t.Errorf("UpdateService of web__2 is call %d, the first of web__3 call %d: want web__2 to 0 first", first, up)
		}
		if got := e.live("web__1", "web__2", "web__3"); got["web__2"] != [2]int{0, 0} || got["web__3"] != [2]int{8, 8} || got["web__1"] != [2]int{0, 0} {
			t.Errorf("live %v, want only web__3 running", got)
		}
		e.checkCapacity(m, 8, "web__1", "web__3")
	})

	t.Run("a failed first deployment that cannot be deleted reports the live counts and nothing as created", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.onLog(rollbackBegins, func() {
			e.srv.InjectFault(ecslocal.Fault{Operation: "DeleteService", Count: -1, Code: "AccessDeniedException", Message: "Injected fault."})
		})
		res, err := e.eng.Deploy(context.Background(), baseConfig(tdCrash, 8), deploy.State{})
		e.srv.ClearFaults()
		re := rolloutError(t, err)
		if res != nil {
			t.Errorf("result %+v, want none", res)
		}
		if re.Created || re.RollbackErr == nil || !strings.Contains(re.RollbackErr.Error(), "DeleteService") {
			t.Errorf("created %v, rollback error %v; want the deletion's error", re.Created, re.RollbackErr)
		}
		if want := []deploy.LiveCount{{Service: "web__1", Desired: 0, Running: 0}}; !reflect.DeepEqual(re.Live, want) {
			t.Errorf("live counts %+v, want %+v", re.Live, want)
		}
		if got := e.services(); len(got) != 1 || got["web__1"].Desired != 0 {
			t.Errorf("services %+v, want web__1 left at 0", got)
		}
	})
}

// TestRollBackToPreviousFailures covers the post-production rollback when it cannot go back, or
// fails on the way and is itself rolled back (DESIGN.md §9).
func TestRollBackToPreviousFailures(t *testing.T) {
	t.Parallel()
	t.Run("without a previous service recorded nothing is called", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		m := e.mark()
		_, err := e.eng.RollBackToPrevious(context.Background(), baseConfig(tdHealthy1, 4), st)
		if !errors.Is(err, deploy.ErrPreviousGone) {
			t.Errorf("error %v, want ErrPreviousGone", err)
		}
		if n := len(e.callsSince(m)); n != 0 {
			t.Errorf("%d calls, want none", n)
		}
	})

	t.Run("a previous service deleted by hand is gone and nothing is written", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		st = e.mustDeploy(baseConfig(tdHealthy2, 4), st)
		e.removeByHand("web__1")
		m := e.mark()
		_, err := e.eng.RollBackToPrevious(context.Background(), baseConfig(tdHealthy1, 4), st)
		if !errors.Is(err, deploy.ErrPreviousGone) || !strings.Contains(err.Error(), "web__1") {
			t.Errorf("error %v, want ErrPreviousGone naming web__1", err)
		}
		if w := e.writesSince(m); len(w) != 0 {
			t.Errorf("write calls %q, want none", w)
		}
	})

	cases := []struct {
		name  string
		fault ecslocal.Fault
		stage string
	}{
		{
			name:  "a refused scale-down of the current service rolls the rollback back",
			fault: ecslocal.Fault{Operation: "UpdateService", Skip: 1, Count: 1, Code: "AccessDeniedException"},
			stage: "scaling web__2 down to 0 tasks",
		},
		{
			name: "auto scaling that cannot be moved to the previous service rolls the rollback back and puts it on the current one again",
			// The first registration suspends web__2's target; the second puts web__1's on.
			fault: ecslocal.Fault{Operation: "RegisterScalableTarget", Skip: 1, Count: 1, Code: "AccessDeniedException"},
			stage: "moving auto scaling to web__1",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := func(td string) deploy.Config {
				c := baseConfig(td, 4)
				c.AutoScaling = cpu60()
				return c
			}
			st := e.mustDeploy(cfg(tdHealthy1), deploy.State{})
			st = e.mustDeploy(cfg(tdHealthy2), st)
			m := e.mark()
			e.srv.InjectFault(tc.fault)
			res, err := e.eng.RollBackToPrevious(context.Background(), cfg(tdHealthy1), st)
			e.srv.ClearFaults()
			re := rolloutError(t, err)
			if re.Stage != tc.stage || re.Failure.Kind != deploy.FailureAPI || !re.RolledBack || re.Production != "web__2 at 4 tasks" {
				t.Errorf("failed while %q (%s), rolled back %v, production %q; want %q, an API error, web__2 at 4 tasks back",
					re.Stage, re.Failure.Kind, re.RolledBack, re.Production, tc.stage)
			}
			checkNamesCall(t, err, tc.fault.Operation, tc.fault.Code)
			if res == nil || !reflect.DeepEqual(res.Current, st.Current) || !reflect.DeepEqual(res.Previous, st.Previous) {
				t.Fatalf("result %+v, want current and previous unchanged", res)
			}
			if got := e.live("web__1", "web__2"); got["web__2"] != [2]int{4, 4} || got["web__1"] != [2]int{0, 0} {
				t.Errorf("live %v, want web__2 at 4 and web__1 at 0", got)
			}
			if got, want := e.scaling("web__2"), (&scalingView{Min: 2, Max: 10, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60"}}); !reflect.DeepEqual(got, want) {
				t.Errorf("auto scaling of web__2 %+v, want %+v back", got, want)
			}
			if got := e.scaling("web__1"); got != nil {
				t.Errorf("web__1 has auto scaling %+v after the rollback", got)
			}
			e.checkCapacity(m, 4, "web__2", "web__1")
			if c := e.countsSince(m); c["ecs:CreateService"] != 0 || !slices.Contains(e.writesTo(m, "web__1"), "ecs:UpdateService") {
				t.Errorf("calls %v, want web__1 scaled and no service created", c)
			}
		})
	}
}
