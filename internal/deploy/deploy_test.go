package deploy_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

func TestDeploy_firstDeploymentThenCanaryToNewRevision(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.eng.Deploy(ctx, baseConfig(tdHealthy1, 8), deploy.State{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Current.Name != "web__1" || res.Current.DesiredCount != 8 || res.Previous != nil || res.HighestRevision != 1 {
		t.Fatalf("after create: %+v current %+v", res, res.Current)
	}
	since := e.mark()
	res, err = e.eng.Deploy(ctx, baseConfig(tdHealthy2, 8), res.State)
	if err != nil {
		t.Fatal(err)
	}
	if res.Current.Name != "web__2" || res.Previous.Name != "web__1" || res.Previous.DesiredCount != 8 {
		t.Fatalf("after deploy: current %+v previous %+v", res.Current, res.Previous)
	}
	if got, want := e.desiredChanges(since, "web__2"), []int{0, 2, 4, 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("web__2 desired counts %v, want %v", got, want)
	}
	if got, want := e.desiredChanges(since, "web__1"), []int{8, 6, 4, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("web__1 desired counts %v, want %v", got, want)
	}
	e.checkCapacity(since, "web__1", "web__2", 8)
	t.Logf("calls: %v", e.srv.CallCounts())
	for _, l := range e.log.lines {
		t.Log(l)
	}
}
