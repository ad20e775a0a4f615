package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// ecslocal's FakeClock is the engine's clock in virtual-time tests.
var _ deploy.Clock = (*ecslocal.FakeClock)(nil)

// TestFakeClock covers the clock that the engine and ecslocal share in virtual-time tests.
func TestFakeClock(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name    string
		ctx     context.Context
		d       time.Duration
		err     error
		advance time.Duration
	}{
		{"a sleep moves time forward by exactly its duration and returns at once", context.Background(), 1500 * time.Millisecond, nil, 1500 * time.Millisecond},
		{"a sleep of zero leaves time where it is", context.Background(), 0, nil, 0},
		{"a negative sleep leaves time where it is", context.Background(), -time.Second, nil, 0},
		{"a sleep on a cancelled context returns the cancellation and leaves time where it is", cancelled, time.Second, context.Canceled, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ecslocal.NewFakeClock(epoch)
			began := time.Now()
			err := c.Sleep(tc.ctx, tc.d)
			if !errors.Is(err, tc.err) {
				t.Errorf("Sleep(%s) = %v, want %v", tc.d, err, tc.err)
			}
			if got := c.Now().Sub(epoch); got != tc.advance {
				t.Errorf("time moved %s, want %s", got, tc.advance)
			}
			if wall := time.Since(began); wall > time.Second {
				t.Errorf("Sleep(%s) took %s of real time", tc.d, wall)
			}
		})
	}

	t.Run("the waits of a rollout move ecslocal's time, so its tasks start while the engine waits", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.eng.Poll = deploy.PollConfig{Initial: time.Second, Max: time.Minute}
		cfg := baseConfig(e.registerTD("slow-start=1h"), 2)
		cfg.Phases = []deploy.Phase{{Percent: 100}}
		cfg.SteadyStateTimeout = 2 * time.Hour
		began := time.Now()
		res, err := e.eng.Deploy(context.Background(), cfg, deploy.State{})
		if err != nil {
			t.Fatal(err)
		}
		// The one phase waits for tasks that take an hour (and 40 ms) to start, and notices
		// them within a poll.
		if took, start := res.Rollout.FinishedAt.Sub(res.Rollout.StartedAt), time.Hour+startDelay; took < start || took > start+e.eng.Poll.Max {
			t.Errorf("the rollout took %s of virtual time, want %s and at most one poll more", took, start)
		}
		if got := e.live("web__1"); got["web__1"] != [2]int{2, 2} {
			t.Errorf("web__1 live %v, want 2 running", got)
		}
		if wall := time.Since(began); wall > 10*time.Second {
			t.Errorf("an hour of virtual waiting took %s of real time", wall)
		}
	})
}

// TestRealClock covers the wall clock that the engine uses by default. These tests run in real
// time on purpose: they are about real sleeps.
func TestRealClock(t *testing.T) {
	t.Parallel()
	t.Run("a sleep waits at least its duration", func(t *testing.T) {
		t.Parallel()
		began := time.Now()
		if err := (deploy.RealClock{}).Sleep(context.Background(), 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(began); took < 20*time.Millisecond {
			t.Errorf("a 20ms sleep returned after %s", took)
		}
	})
	t.Run("a cancel ends a sleep at once with the cancellation", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		began := time.Now()
		err := (deploy.RealClock{}).Sleep(ctx, time.Minute)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep = %v, want context.Canceled", err)
		}
		if took := time.Since(began); took > 10*time.Second {
			t.Errorf("the cancelled sleep returned after %s", took)
		}
	})
	t.Run("a sleep of zero on a cancelled context returns the cancellation", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := (deploy.RealClock{}).Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep = %v, want context.Canceled", err)
		}
	})
	t.Run("an engine without a clock waits in real time for its tasks to start and stop", func(t *testing.T) {
		t.Parallel()
		e := newRealTimeEnv(t)
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		m := e.mark()
		began := time.Now()
		res, err := e.eng.Deploy(context.Background(), baseConfig(tdHealthy2, 4), st)
		wall := time.Since(began)
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__2" || e.live("web__2")["web__2"] != [2]int{4, 4} {
			t.Fatalf("current %+v, live %v", res.Current, e.live("web__2"))
		}
		e.checkCapacity(m, 4, "web__1", "web__2")
		// Each of the three phases waits for a start and then a stop.
		if delays := 3 * (startDelay + stopDelay); wall < delays {
			t.Errorf("the rollout took %s, less than the %s its tasks need to start and stop", wall, delays)
		}
		if took := res.Rollout.FinishedAt.Sub(res.Rollout.StartedAt); took > wall {
			t.Errorf("last rollout spans %s, more than the %s Deploy took", took, wall)
		}
	})
}
