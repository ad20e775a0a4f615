package deploy_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// TestDrainingNames covers a first deployment in a cluster where the name it would take is held
// by a DRAINING service (DESIGN.md §5.2, §5.3): ListServices no longer shows a deleted service whose
// tasks still drain, but its name cannot be created again until it is INACTIVE. The deployment
// looks above what the list showed and takes the next free name, with one CreateService.
func TestDrainingNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// owner tags the draining web__1: this deployment's (deleted outside an apply that
		// finished, e.g. an interrupted destroy) or someone else's.
		ownID string
		want  string
	}{
		{name: "this deployment's own web__1, deleted while its targets drain, makes the create take web__2", ownID: "prod/web", want: "web__2"},
		{name: "another deployment's web__1, deleted while its targets drain, makes the create take web__2", ownID: "prod/other", want: "web__2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// AWS's default 300 s deregistration delay (3 s at the time scale) keeps web__1
			// DRAINING.
			e := newServingEnv(t, servingScale)
			tg := e.tgArn("web")
			td := e.registerServingTD(elbHealthy, nil)
			old := servingConfig(td, 2, tg)
			old.DeploymentID = tc.ownID
			e.mustDeploy(old, deploy.State{})
			ctx := context.Background()
			if _, err := e.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), Force: aws.Bool(true)}); err != nil {
				t.Fatal(err)
			}
			out, err := e.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1"}})
			if err != nil || len(out.Services) != 1 || aws.ToString(out.Services[0].Status) != "DRAINING" {
				t.Fatalf("web__1 after DeleteService: %+v, %v; want DRAINING", out, err)
			}
			m := e.mark()
			res, err := e.eng.Deploy(ctx, servingConfig(td, 2, tg), deploy.State{})
			if err != nil {
				t.Fatalf("the create failed: %v", err)
			}
			if res.Current.Name != tc.want {
				t.Errorf("the create made %s, want %s", res.Current.Name, tc.want)
			}
			var creates []string
			for _, c := range e.callsSince(m) {
				if c.Action() == "ecs:CreateService" {
					creates = append(creates, c.Resource+" "+c.ErrorCode)
				}
			}
			if len(creates) != 1 || creates[0] != tc.want+" " {
				t.Errorf("CreateService calls %q, want one of %s that succeeded", creates, tc.want)
			}
			if n := e.countsSince(m)["ecs:ListServices"]; n != 1 {
				t.Errorf("%d ListServices calls, want 1", n)
			}
		})
	}
}
