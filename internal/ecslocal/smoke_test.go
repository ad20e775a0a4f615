package ecslocal_test

import (
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	svc := e.createService(t, "web__1", "web:1", 2)
	if *svc.ServiceName != "web__1" || svc.PendingCount != 2 {
		t.Fatalf("%+v", svc)
	}
	e.clock.Advance(time.Second)
	got := e.describe(t, "web__1")
	if got.RunningCount != 2 {
		t.Fatalf("running %d", got.RunningCount)
	}
	for _, ev := range got.Events {
		t.Log(*ev.Message)
	}
	t.Log(*got.ServiceArn, got.Deployments[0].RolloutState, *got.Deployments[0].Id)
}
