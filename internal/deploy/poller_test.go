package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// The poller learns how long tasks take to start from production's tasks. These tests break
// that prediction and check that the rollout stays correct and the poll count stays bounded.
func TestPoller_wrongPredictions(t *testing.T) {
	t.Parallel()
	t.Run("new tasks far slower than production's still roll out, with a bounded number of polls", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ctx := context.Background()
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		slow := e.registerTD("slow-start=1500ms") // production's tasks start in 40 ms
		m := e.mark()
		cfg := baseConfig(slow, 4)
		began := e.now()
		res, err := e.eng.Deploy(ctx, cfg, st)
		took, polls := e.now().Sub(began), e.pollsPerWait(m)
		if err != nil {
			t.Fatalf("a slow but healthy revision failed: %v", err)
		}
		if res.Current.Name != "web__2" || e.live("web__2")["web__2"] != [2]int{4, 4} {
			t.Fatalf("current %+v, live %v", res.Current, e.live("web__2"))
		}
		e.checkCapacity(m, 4, "web__1", "web__2")
		// Each new task starts in 1540 ms (40 ms and 1500 ms more), each old one stops in 20.
		if len(polls) != 6 {
			t.Fatalf("polls per wait %v, want six waits", polls)
		}
		// The first start wait is the one the prediction misses. Its polls come at an eighth
		// of the time waited, at most Poll.Max apart: about 20 while the interval grows to
		// Poll.Max, then one every Poll.Max. Polling every Poll.Initial would take 308.
		if limit := int(1540*time.Millisecond/testPoll.Max) + 25; polls[0] > limit {
			t.Errorf("%d polls for the mispredicted 1.54 s wait, want at most %d", polls[0], limit)
		}
		// The later start waits predict from the first: they sleep until the earliest moment
		// its polls allow (the last one that found the tasks not yet running) and poll through
		// that window at a quarter of its width, Poll.Max/4 here: a handful of polls, not the
		// first wait's dozens.
		if polls[2] > 6 || polls[4] > 6 {
			t.Errorf("polls per wait %v: the start waits of phases 2 and 3 took %d and %d polls, want at most 6 each", polls, polls[2], polls[4])
		}
		// Each wait ends within a poll interval of its goal: at most Poll.Max late for a start,
		// Poll.Initial for a stop.
		ideal := 3 * (1540*time.Millisecond + stopDelay)
		if took < ideal || took > ideal+3*testPoll.Max+3*testPoll.Initial {
			t.Errorf("the rollout took %s of virtual time, want %s to %s", took, ideal, ideal+3*testPoll.Max+3*testPoll.Initial)
		}
		t.Logf("polls per wait %v over %s for a rollout whose tasks started 38 times slower than predicted", polls, took)
	})
	// In real time on purpose: the engine polls the wall clock against ecslocal's real delays,
	// and every poll's HTTP round trip adds to the time it measures.
	t.Run("new tasks that crash soon after the predicted start are still caught", func(t *testing.T) {
		t.Parallel()
		e := newRealTimeEnv(t)
		ctx := context.Background()
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		crashing := e.registerTD("crash-after=100ms")
		m := e.mark()
		cfg := baseConfig(crashing, 4)
		cfg.Phases[0].BakeTime = time.Second
		cfg.FailedTaskThreshold = 1
		_, err := e.eng.Deploy(ctx, cfg, st)
		var re *deploy.RolloutError
		if !errors.As(err, &re) || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack {
			t.Fatalf("err = %v, want a rolled-back failed-tasks rollout", err)
		}
		if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{4, 4} || got["web__2"][0] != 0 {
			t.Fatalf("after the rollback: %v", got)
		}
		e.checkCapacity(m, 4, "web__1", "web__2")
	})
}

// TestPoller_defaults covers an engine given no poll configuration.
func TestPoller_defaults(t *testing.T) {
	t.Parallel()
	t.Run("the first poll comes after 100 ms, and polls are never more than 5 s apart", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.eng.Poll, e.eng.Log = deploy.PollConfig{}, nil
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		m := e.mark()
		cfg := baseConfig(e.registerTD("slow-start=2m"), 4)
		cfg.Phases = []deploy.Phase{{Percent: 100}}
		cfg.SteadyStateTimeout = 5 * time.Minute
		if _, err := e.eng.Deploy(context.Background(), cfg, st); err != nil {
			t.Fatal(err)
		}
		var polls []time.Time
		up := e.callAt(m, "ecs:UpdateService", "web__2")
		for _, c := range e.callsSince(m) {
			if c.Action() == "ecs:DescribeServices" && c.Time.After(up) {
				polls = append(polls, c.Time)
			}
		}
		// Production's tasks started in 40 ms, but no poll comes before the 100 ms minimum.
		if first := polls[0].Sub(up); first != 100*time.Millisecond {
			t.Errorf("the first poll came %s after the scale-up, want 100ms", first)
		}
		capped := 0
		for i := 1; i < len(polls); i++ {
			gap := polls[i].Sub(polls[i-1])
			if gap > 5*time.Second {
				t.Errorf("polls %d and %d are %s apart, more than 5s", i-1, i, gap)
			}
			if gap == 5*time.Second {
				capped++
			}
		}
		// A two-minute wait polls every 100 ms for its first 800 ms, then at an eighth of the
		// time waited until that reaches 5 s at 40 s (about 33 polls), then every 5 s (16).
		if n := len(polls); capped < 15 || n < 50 || n > 65 {
			t.Errorf("%d polls, %d of them 5 s after the one before, for a two-minute wait and one stop; want 50 to 65, at least 15", n, capped)
		}
	})
}
