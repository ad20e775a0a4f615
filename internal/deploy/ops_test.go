package deploy_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// TestRollBackToPrevious covers the post-production rollback (DESIGN.md §9): the previous
// service back at its recorded count, the current one at 0, and the two swapped in state.
func TestRollBackToPrevious(t *testing.T) {
	t.Parallel()
	t.Run("rolling back and forward again swaps the two services at their recorded counts without creating a service", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ctx := context.Background()
		st := e.mustDeploy(baseConfig(tdHealthy1, 8), deploy.State{})
		st = e.mustDeploy(baseConfig(tdHealthy2, 6), st)
		if st.Current.Name != "web__2" || st.Current.DesiredCount != 6 || st.Previous.Name != "web__1" || st.Previous.DesiredCount != 8 {
			t.Fatalf("before the rollback: current %+v previous %+v", st.Current, st.Previous)
		}
		if got := e.live("web__1"); got["web__1"] != [2]int{0, 0} {
			t.Fatalf("web__1 live %v, want 0 while it is recorded at 8", got)
		}

		// Back: web__1 returns to its recorded 8, not to any configured count.
		back := baseConfig(tdHealthy1, 0)
		back.DesiredCount = nil
		m := e.mark()
		res, err := e.eng.RollBackToPrevious(ctx, back, st)
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__1" || res.Current.Revision != 1 || res.Current.DesiredCount != 8 ||
			res.Previous.Name != "web__2" || res.Previous.Revision != 2 || res.Previous.DesiredCount != 6 || res.HighestRevision != 2 {
			t.Errorf("after rolling back: current %+v previous %+v highest %d", res.Current, res.Previous, res.HighestRevision)
		}
		if got, want := e.settledPairs(m, "web__1", "web__2"), [][2]int{{0, 6}, {8, 6}, {8, 0}}; !reflect.DeepEqual(got, want) {
			t.Errorf("settled {web__1, web__2} counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 6, "web__2", "web__1")
		counts := e.countsSince(m)
		if counts["ecs:CreateService"] != 0 || counts["ecs:UpdateService"] != 2 || counts["ecs:ListServices"] != 0 {
			t.Errorf("calls per operation %v, want no CreateService or ListServices and 2 UpdateService", counts)
		}
		t.Logf("calls per operation rolling back: %v", counts)

		// Forward again from the swapped state: web__2 returns to its recorded 6.
		forward := baseConfig(tdHealthy2, 0)
		forward.DesiredCount = nil
		m = e.mark()
		res, err = e.eng.RollBackToPrevious(ctx, forward, res.State)
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__2" || res.Current.DesiredCount != 6 || res.Previous.Name != "web__1" || res.Previous.DesiredCount != 8 {
			t.Errorf("after rolling forward: current %+v previous %+v", res.Current, res.Previous)
		}
		if got, want := e.settledPairs(m, "web__2", "web__1"), [][2]int{{0, 8}, {6, 8}, {6, 0}}; !reflect.DeepEqual(got, want) {
			t.Errorf("settled {web__2, web__1} counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 6, "web__1", "web__2")
		counts = e.countsSince(m)
		if counts["ecs:CreateService"] != 0 || counts["ecs:UpdateService"] != 2 {
			t.Errorf("calls per operation %v, want no CreateService and 2 UpdateService", counts)
		}
		if got := e.services(); len(got) != 2 || got["web__2"].Desired != 6 || got["web__2"].Running != 6 || got["web__1"].Desired != 0 {
			t.Errorf("services after rolling forward: %+v", got)
		}
	})
}

// TestRetention covers the pruning of old zero-count services beyond retain_old_services
// (DESIGN.md §5.2.5): oldest first, never production, never the recorded previous service.
func TestRetention(t *testing.T) {
	t.Parallel()
	t.Run("six deployments with three retained keep the three newest zero-count services and delete the oldest first", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		m := e.mark()
		st := deploy.State{}
		for i, td := range []string{tdHealthy1, tdHealthy2, tdHealthy6, tdHealthy1, tdHealthy2, tdHealthy6} {
			before := e.mark()
			st = e.mustDeploy(baseConfig(td, 4), st)
			if want := deploy.RevisionName("web", i+1); st.Current.Name != want {
				t.Fatalf("deployment %d is %s, want %s", i+1, st.Current.Name, want)
			}
			if i > 0 {
				e.checkCapacity(before, 4, deploy.RevisionName("web", i), st.Current.Name)
			}
		}
		var deleted []string
		for _, c := range e.callsSince(m) {
			if c.Action() == "ecs:DeleteService" {
				deleted = append(deleted, c.Resource)
			}
		}
		if want := []string{"web__1", "web__2"}; !slices.Equal(deleted, want) {
			t.Errorf("DeleteService calls %v, want %v in that order", deleted, want)
		}
		want := map[string]liveService{
			"web__3": {Desired: 0, Running: 0, Owner: "prod/web", TaskDefinition: tdHealthy6},
			"web__4": {Desired: 0, Running: 0, Owner: "prod/web", TaskDefinition: tdHealthy1},
			"web__5": {Desired: 0, Running: 0, Owner: "prod/web", TaskDefinition: tdHealthy2},
			"web__6": {Desired: 4, Running: 4, Owner: "prod/web", TaskDefinition: tdHealthy6},
		}
		if got := e.services(); !reflect.DeepEqual(got, want) {
			t.Errorf("ACTIVE services %+v, want %+v", got, want)
		}
	})

	t.Run("failed revisions never push the recorded previous service out", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		st = e.mustDeploy(withRetain(baseConfig(tdHealthy2, 4), 1), st)
		m := e.mark()
		for range 3 {
			before := e.mark()
			res, err := e.eng.Deploy(context.Background(), withRetain(baseConfig(tdCrash, 4), 1), st)
			if re := rolloutError(t, err); !re.RolledBack {
				t.Fatalf("not rolled back: %v", err)
			}
			e.checkCapacity(before, 4, "web__2", deploy.RevisionName("web", res.HighestRevision))
			st = res.State
		}
		if st.HighestRevision != 5 || st.Previous.Name != "web__1" {
			t.Fatalf("highest %d previous %+v", st.HighestRevision, st.Previous)
		}
		var deleted []string
		for _, c := range e.callsSince(m) {
			if c.Action() == "ecs:DeleteService" {
				deleted = append(deleted, c.Resource)
			}
		}
		if want := []string{"web__3"}; !slices.Equal(deleted, want) {
			t.Errorf("DeleteService calls %v, want %v: web__1 is previous", deleted, want)
		}
		if w := e.writesTo(m, "web__1"); len(w) != 0 {
			t.Errorf("writes to the previous service web__1: %v", w)
		}
		// And it is still there to roll back to.
		m = e.mark()
		res, err := e.eng.RollBackToPrevious(context.Background(), withRetain(baseConfig(tdHealthy1, 4), 1), st)
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__1" || res.Current.DesiredCount != 4 {
			t.Errorf("after the rollback: current %+v", res.Current)
		}
		e.checkCapacity(m, 4, "web__2", "web__1")
	})
}

func withRetain(cfg deploy.Config, n int) deploy.Config {
	cfg.RetainOldServices = n
	return cfg
}

// TestForeignServices covers ownership by tag (DESIGN.md §1 and §5.3): a service named like a
// revision that is not this deployment's is never written to, and its name is skipped.
func TestForeignServices(t *testing.T) {
	t.Parallel()
	t.Run("services named like revisions but untagged or of another deployment are never written and their names are skipped", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ctx := context.Background()
		for name, tags := range map[string][]string{"web__2": nil, "web__3": {deploy.OwnerTag, "other"}} {
			in := &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String(tdHealthy1), DesiredCount: aws.Int32(1)}
			if tags != nil {
				in.Tags = append(in.Tags, ecsTag(tags[0], tags[1]))
			}
			if _, err := e.ecs.CreateService(ctx, in); err != nil {
				t.Fatal(err)
			}
		}

		m := e.mark()
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		if st.Current.Name != "web__1" {
			t.Fatalf("first deployment is %s, want web__1", st.Current.Name)
		}
		st = e.mustDeploy(baseConfig(tdHealthy2, 4), st)
		if st.Current.Name != "web__4" || st.Current.Revision != 4 || st.HighestRevision != 4 {
			t.Errorf("second deployment is %+v (highest %d), want web__4: web__2 and web__3 are taken", st.Current, st.HighestRevision)
		}
		e.checkCapacity(m, 4, "web__1", "web__4")

		// State lost: discovery lists the cluster and takes the highest owned revision holding
		// tasks as production, never a foreign one.
		lost := e.mark()
		res, err := e.eng.Deploy(ctx, baseConfig(tdHealthy6, 4), deploy.State{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__5" || res.Previous == nil || res.Previous.Name != "web__4" || res.Previous.DesiredCount != 4 {
			t.Errorf("after a deployment without state: current %+v previous %+v, want web__5 over web__4", res.Current, res.Previous)
		}
		e.checkCapacity(lost, 4, "web__4", "web__5")

		for _, name := range []string{"web__2", "web__3"} {
			if w := e.writesTo(m, name); len(w) != 0 {
				t.Errorf("writes to the foreign %s: %v", name, w)
			}
			if got := e.desiredChanges(m, name); !slices.Equal(got, []int{1}) {
				t.Errorf("%s desired counts %v, want [1]", name, got)
			}
		}
		created := []string{}
		for _, c := range e.callsSince(m) {
			if c.Action() == "ecs:CreateService" {
				created = append(created, c.Resource)
			}
		}
		if want := []string{"web__1", "web__4", "web__5"}; !slices.Equal(created, want) {
			t.Errorf("CreateService calls %v, want %v", created, want)
		}
	})
}

// TestBadInput covers input that cannot be deployed (DESIGN.md §12.2): it is reported before any
// write.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		field string
		// arrange prepares the case through the SDK and returns the config and state to deploy.
		arrange func(e *env) (deploy.Config, deploy.State)
	}{
		{"a cluster that does not exist is an error on cluster", "cluster", func(e *env) (deploy.Config, deploy.State) {
			cfg := baseConfig(tdHealthy1, 2)
			cfg.Cluster = "staging"
			return cfg, deploy.State{}
		}},
		{"a task definition that does not exist is an error on task_definition", "task_definition", func(e *env) (deploy.Config, deploy.State) {
			return baseConfig("web:99", 2), deploy.State{}
		}},
		{"an INACTIVE task definition is an error on task_definition", "task_definition", func(e *env) (deploy.Config, deploy.State) {
			if _, err := e.ecs.DeregisterTaskDefinition(context.Background(), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(tdHealthy6)}); err != nil {
				e.t.Fatal(err)
			}
			return baseConfig(tdHealthy6, 2), deploy.State{}
		}},
		{"a task definition of another family is an error on task_definition", "task_definition", func(e *env) (deploy.Config, deploy.State) {
			st := e.mustDeploy(baseConfig(tdHealthy1, 2), deploy.State{})
			out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
				Family: aws.String("api"), ContainerDefinitions: containers("healthy"),
			})
			if err != nil {
				e.t.Fatal(err)
			}
			return baseConfig(aws.ToString(out.TaskDefinition.TaskDefinitionArn), 2), st
		}},
		{"a first deployment without a desired count is an error on desired_count", "desired_count", func(e *env) (deploy.Config, deploy.State) {
			cfg := baseConfig(tdHealthy1, 2)
			cfg.DesiredCount = nil
			return cfg, deploy.State{}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg, st := tc.arrange(e)
			m := e.mark()
			res, err := e.eng.Deploy(context.Background(), cfg, st)
			var ie *deploy.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("error %v (%T), want a *deploy.InputError on %s", err, err, tc.field)
			}
			if res != nil {
				t.Errorf("result %+v, want nil", res)
			}
			if w := e.writesSince(m); len(w) != 0 {
				t.Errorf("write calls before the error: %v", w)
			}
			t.Logf("%v; calls: %v", err, e.countsSince(m))
		})
	}
}
