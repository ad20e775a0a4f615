package ecslocal

import (
	"context"
	"sync"
	"time"
)

// Clock tells ecslocal what time it is. The scheduler is evaluated lazily: every request first
// advances the emulated world to Clock.Now, so a test with a FakeClock moves time forward by
// calling Advance and needs no real sleeps.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// FakeClock is a Clock that only moves when told to. It is safe for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock set to start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the fake current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the fake time forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep moves the fake time forward by d and returns at once, unless ctx is done, in which case
// it returns ctx.Err() and time stays where it is. It gives a FakeClock the shape of the
// deployment engine's clock (deploy.Clock), so that one FakeClock can drive both: whenever the
// engine waits, emulated time passes by exactly what it asked for, and the tasks it waits for
// start and stop in that time. Concurrent sleepers each move the shared time forward.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		c.Advance(d)
	}
	return nil
}
