package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// runningWeb creates the service "web" as a team runs it before adopting it: 4 tasks of web:1,
// no tags of ours, auto scaling 2–10 with target tracking cpu60 and a scheduled action, plus the
// tags given. It waits until its tasks run.
func (e *env) runningWeb(tags ...types.Tag) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(tdHealthy1), DesiredCount: aws.Int32(4),
		PropagateTags: types.PropagateTagsService, EnableExecuteCommand: true,
		Tags: append([]types.Tag{ecsTag("team", "shop")}, tags...),
	}); err != nil {
		e.t.Fatal(err)
	}
	id := aws.String("service/prod/web")
	if _, err := e.aas.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: id, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(10),
	}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.aas.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: id, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		PolicyName: aws.String("cpu60"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue:                   aws.Float64(60),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
		},
	}); err != nil {
		e.t.Fatal(err)
	}
	e.addSchedule("web")
	e.await(startDelay, "web's 4 tasks running", func() bool { return e.services()["web"].Running == 4 })
}

// adoptConfig adopts "web" with the auto scaling it runs with.
func adoptConfig(td string) deploy.Config {
	cfg := baseConfig(td, 4)
	cfg.Adopt = "web"
	cfg.AutoScaling = withSchedule()
	return cfg
}

// TestAdopt covers the adoption of a running service (DESIGN.md §16): the first deployment
// takes it over phase by phase; it becomes revision 0, previous, ours; a post-production
// rollback goes back to it; a failed adoption leaves it exactly as it was.
func TestAdopt(t *testing.T) {
	t.Parallel()
	t.Run("web is adopted at its 4 tasks: web__1 grows as web shrinks, and web ends at 0, tagged, previous", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.runningWeb()
		m := e.mark()
		res, err := e.eng.Apply(context.Background(), deploy.PreviewInput{Config: adoptConfig(tdHealthy2)}, nil)
		if err != nil {
			e.logSteps()
			t.Fatal(err)
		}
		if res.Action != deploy.ActionAdopt || res.Current.Name != "web__1" || res.Current.DesiredCount != 4 {
			t.Errorf("action %s, production %+v; want adopt, web__1 at 4", res.Action, res.Current)
		}
		if p := res.Previous; p == nil || p.Name != "web" || p.Revision != deploy.RevisionZero || p.DesiredCount != 4 {
			t.Errorf("previous %+v, want web, revision 0, at 4", p)
		}
		if a := res.Adopted; a == nil || a.Service != "web" || a.Template == nil || a.Template.PropagateTags != "SERVICE" || !a.Template.EnableExecuteCommand || a.Template.Tags["team"] != "shop" {
			t.Errorf("adoption recorded %+v, want web with its template copied (propagate tags, ECS Exec, tag team)", a)
		}
		e.checkCapacity(m, 4, "web", "web__1")
		if got := e.desiredChanges(m, "web"); !reflect.DeepEqual(got, []int{4, 3, 2, 0}) {
			t.Errorf("web went through %v, want [4 3 2 0]", got)
		}
		svcs := e.services()
		if w := svcs["web"]; w.Owner != "prod/web" || w.Desired != 0 {
			t.Errorf("web %+v, want ours at 0", w)
		}
		if tags := e.tags("web"); tags[deploy.RevisionTag] != "0" || tags["team"] != "shop" {
			t.Errorf("web's tags %v, want revision 0 and its own kept", tags)
		}
		if tags := e.tags("web__1"); tags["team"] != "shop" {
			t.Errorf("web__1's tags %v, want the copied tag team = shop", tags)
		}
		if got := e.scaling("web__1"); got == nil || !reflect.DeepEqual(*got, scheduledView) {
			t.Errorf("web__1's auto scaling %+v, want %+v", got, scheduledView)
		}
		if got := e.scaling("web"); got != nil {
			t.Errorf("web kept auto scaling %+v", got)
		}

		// A post-production rollback to revision 0.
		prior := adoptConfig(tdHealthy2)
		back := adoptConfig(tdHealthy1)
		fp, err := deploy.Fingerprint(tdHealthy1, deploy.ServiceTemplate{})
		if err != nil {
			t.Fatal(err)
		}
		res, err = e.eng.Apply(context.Background(), deploy.PreviewInput{Config: back, Prior: &prior, State: res.State, Fingerprints: map[string]string{"web": fp}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != deploy.ActionRollback || res.Current.Name != "web" || res.Current.Revision != 0 || res.Previous.Name != "web__1" {
			t.Errorf("action %s, current %+v, previous %+v; want a rollback to web (revision 0) from web__1", res.Action, res.Current, res.Previous)
		}
		if got := e.live("web", "web__1"); got["web"] != [2]int{4, 4} || got["web__1"][0] != 0 {
			t.Errorf("after the rollback %v, want web at 4 and web__1 at 0", got)
		}
		if got := e.scaling("web"); got == nil || !reflect.DeepEqual(*got, scheduledView) {
			t.Errorf("web's auto scaling after the rollback %+v, want %+v", got, scheduledView)
		}

		// Retention prunes it like any revision: two more releases and it is gone.
		st := res.State
		for _, td := range []string{tdHealthy2, tdHealthy6} {
			cfg := adoptConfig(td)
			cfg.RetainOldServices = 0
			st = e.mustDeploy(cfg, st)
		}
		if _, ok := e.services()["web"]; ok {
			t.Errorf("web is still there after two releases with retain_old_services = 0: %+v", e.services())
		}
	})

	t.Run("an adoption whose new revision fails leaves web exactly as it was, untagged, with its auto scaling, and nothing of its own", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.runningWeb()
		before, scalingBefore, tagsBefore := e.services()["web"], e.scaling("web"), e.tags("web")
		m := e.mark()
		_, err := e.eng.Apply(context.Background(), deploy.PreviewInput{Config: adoptConfig(tdCrash)}, nil)
		re := rolloutError(t, err)
		if !re.RolledBack || re.Production != "web at 4 tasks" {
			t.Fatalf("rolled back %v, production %q: %v", re.RolledBack, re.Production, err)
		}
		if got := e.services()["web"]; got != before {
			t.Errorf("web %+v, want %+v as before", got, before)
		}
		if got := e.scaling("web"); !reflect.DeepEqual(got, scalingBefore) {
			t.Errorf("web's auto scaling %+v, want %+v as before", got, scalingBefore)
		}
		if got := e.tags("web"); !reflect.DeepEqual(got, tagsBefore) {
			t.Errorf("web's tags %v, want %v as before", got, tagsBefore)
		}
		if s, ok := e.services()["web__1"]; ok {
			t.Errorf("the failed revision web__1 is still there: %+v", s)
		}
		e.checkCapacity(m, 4, "web", "web__1")
	})
}

// TestAdoptPreflight: each service that cannot be adopted is refused before any write, with an
// error on adopt.service_name.
func TestAdoptPreflight(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		arrange func(e *env) deploy.Config
		want    string
	}{
		{"a service that does not exist", func(*env) deploy.Config {
			return adoptConfig(tdHealthy2)
		}, "ECS service web does not exist"},
		{"a service that is not ACTIVE", func(e *env) deploy.Config {
			e.runningWeb()
			if _, err := e.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), Force: aws.Bool(true)}); err != nil {
				e.t.Fatal(err)
			}
			return adoptConfig(tdHealthy2)
		}, "ECS service web is DRAINING; only an ACTIVE service can be adopted"},
		{"a service of another task definition family", func(e *env) deploy.Config {
			e.runningWeb()
			cfg := adoptConfig(e.registerFamily("api"))
			return cfg
		}, `runs task definition family "web", but this deployment runs family "api"`},
		{"a service of another deployment", func(e *env) deploy.Config {
			e.runningWeb(ecsTag(deploy.OwnerTag, "prod/other"))
			return adoptConfig(tdHealthy2)
		}, `carries the tag phased-deployment:id = "prod/other": it belongs to another deployment`},
		{"a service with a revision's name", func(e *env) deploy.Config {
			cfg := adoptConfig(tdHealthy2)
			cfg.Adopt = "web__3"
			return cfg
		}, "has the name of a revision of this deployment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := c.arrange(e)
			m := e.mark()
			_, err := e.eng.Apply(context.Background(), deploy.PreviewInput{Config: cfg}, nil)
			var ie *deploy.InputError
			if !errors.As(err, &ie) || ie.Field != "adopt.service_name" || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v (%T), want an input error on adopt.service_name saying %q", err, err, c.want)
			}
			if w := e.writesSince(m); len(w) != 0 {
				t.Errorf("the refused adoption wrote %q", w)
			}
		})
	}
}

// registerFamily registers a healthy task definition of another family, as family:revision.
func (e *env) registerFamily(family string) string {
	e.t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: containers("healthy")})
	if err != nil {
		e.t.Fatal(err)
	}
	return deploy.FamilyRevision(aws.ToString(out.TaskDefinition.TaskDefinitionArn))
}

// TestAdoptResume kills an adoption after each of its writes and runs it again from the same
// (empty) state: the next run takes web over with the tasks the killed run had moved counted in,
// so capacity never drops below web's 4, and ends as an uninterrupted adoption does.
func TestAdoptResume(t *testing.T) {
	t.Parallel()
	// The writes of an adoption of web at 4 with auto scaling: the suspension tag and the
	// suspension, the create, three phases of two scales, the claim, web__1's target, policy and
	// scheduled action, web's target off, its suspension tag off.
	const writes = 15
	for n := 1; n <= writes; n++ {
		t.Run(fmt.Sprintf("killed after write %d", n), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.runningWeb()
			killed := e.mark()
			_, _ = e.eng.Apply(e.killAfterWrites(n), deploy.PreviewInput{Config: adoptConfig(tdHealthy2)}, nil)
			e.revive()
			if got := len(e.writesSince(killed)); got != n {
				t.Fatalf("the killed run made %d writes, want %d: %q", got, n, e.writesSince(killed))
			}
			res, err := e.eng.Apply(context.Background(), deploy.PreviewInput{Config: adoptConfig(tdHealthy2)}, nil)
			if err != nil {
				e.logSteps()
				t.Fatal(err)
			}
			if res.Current.DesiredCount != 4 || res.Previous == nil || res.Previous.Name != "web" || res.Previous.DesiredCount < 4 {
				t.Errorf("current %+v, previous %+v; want production at 4 over web at its count or more", res.Current, res.Previous)
			}
			for name, s := range e.services() {
				switch {
				case name == res.Current.Name && (s.Desired != 4 || s.Running != 4):
					t.Errorf("production %s: %+v, want 4 running", name, s)
				case name != res.Current.Name && s.Desired != 0:
					t.Errorf("%s holds tasks: %+v", name, s)
				}
			}
			if got := e.scaling(res.Current.Name); got == nil || !reflect.DeepEqual(*got, scheduledView) {
				t.Errorf("%s's auto scaling %+v, want %+v, not suspended", res.Current.Name, got, scheduledView)
			}
			if tags := e.tags("web"); tags[deploy.OwnerTag] != "prod/web" || tags[deploy.SuspendedTag] != "" {
				t.Errorf("web's tags %v, want ours and no suspension tag", tags)
			}
			e.checkCapacity(killed, 4, "web", "web__1", "web__2")
		})
	}
}
