package deploy_test

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestFindCluster covers the one lookup of a cluster: every way ECS says that a cluster is not
// there is a *NotFoundError, and every other error stays an error.
func TestFindCluster(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		ref      string
		fault    *ecslocal.Fault
		cluster  string // the name found; "" when not found
		notFound string // what the *NotFoundError says, when there is one
		err      string // what another error says
	}{
		{name: "a cluster is found by its name", ref: "prod", cluster: "prod"},
		{name: "a cluster is found by its ARN", ref: "arn:aws:ecs:eu-west-1:000000000000:cluster/prod", cluster: "prod"},
		{name: "an unknown cluster, which DescribeClusters reports as a MISSING failure, is not found", ref: "staging", notFound: `ECS cluster "staging" not found (MISSING)`},
		{
			name: "a ClusterNotFoundException is not found", ref: "prod",
			fault:    &ecslocal.Fault{Operation: "DescribeClusters", Count: 1, Code: "ClusterNotFoundException"},
			notFound: `ECS cluster "prod" not found (ClusterNotFoundException)`,
		},
		{
			name: "an access denied is an error, not a cluster that is gone", ref: "prod",
			fault: &ecslocal.Fault{Operation: "DescribeClusters", Count: 1, Code: "AccessDeniedException"},
			err:   "AccessDeniedException",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tc.fault != nil {
				e.srv.InjectFault(*tc.fault)
			}
			cl, err := deploy.FindCluster(context.Background(), e.ecs, tc.ref)
			switch {
			case tc.cluster != "":
				if err != nil || aws.ToString(cl.ClusterName) != tc.cluster || aws.ToString(cl.Status) != "ACTIVE" {
					t.Errorf("FindCluster(%q) = %+v, %v; want the ACTIVE cluster %s", tc.ref, cl, err, tc.cluster)
				}
			case tc.notFound != "":
				if !deploy.IsNotFound(err) || err.Error() != tc.notFound {
					t.Errorf("FindCluster(%q) error %v (not found: %v), want the not-found error %q", tc.ref, err, deploy.IsNotFound(err), tc.notFound)
				}
			default:
				if err == nil || deploy.IsNotFound(err) || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("FindCluster(%q) error %v, want an error saying %s that is not a not-found error", tc.ref, err, tc.err)
				}
			}
		})
	}
}

// TestDiscoveryAboveTheRecordedRevisions covers runs killed before Terraform saved their state
// (DESIGN.md §5): they leave revisions above the recorded highest one, which discovery must
// find, however many there are, so that the next revision goes above them all.
func TestDiscoveryAboveTheRecordedRevisions(t *testing.T) {
	t.Parallel()
	t.Run("revisions far above the recorded highest one are found and the next revision goes above them", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(baseConfig(tdHealthy1, 2), deploy.State{})
		// Killed runs left web__2 to web__15 at 0: more than one DescribeServices batch above
		// what state records.
		for rev := 2; rev <= 15; rev++ {
			if _, err := e.ecs.CreateService(context.Background(), &ecs.CreateServiceInput{
				Cluster: aws.String("prod"), ServiceName: aws.String(deploy.RevisionName("web", rev)), TaskDefinition: aws.String(tdHealthy2),
				DesiredCount: aws.Int32(0), Tags: []types.Tag{ecsTag(deploy.OwnerTag, "prod/web"), ecsTag(deploy.RevisionTag, strconv.Itoa(rev))},
			}); err != nil {
				t.Fatal(err)
			}
		}
		m := e.mark()
		cfg := withRetain(baseConfig(tdHealthy2, 2), 20)
		res, err := e.eng.Deploy(context.Background(), cfg, st)
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__16" || res.HighestRevision != 16 || res.Previous.Name != "web__1" {
			t.Errorf("current %+v highest %d previous %+v, want web__16 over web__1", res.Current, res.HighestRevision, res.Previous)
		}
		// State names production, so the cluster is never listed: discovery describes upwards.
		if n := e.countsSince(m)["ecs:ListServices"]; n != 0 {
			t.Errorf("%d ListServices calls, want none", n)
		}
		e.checkCapacity(m, 2, "web__1", "web__16")
	})
}

// TestServiceTemplate covers what each revision's service is created with (DESIGN.md §5):
// every setting of the service template, and the ownership tags, which a tag of the template
// cannot replace.
func TestServiceTemplate(t *testing.T) {
	t.Parallel()
	grace := 30
	cases := []struct {
		name     string
		template deploy.ServiceTemplate
		check    func(t *testing.T, svc types.Service)
	}{
		{
			// Load balancers need a load balancer, listener and target group in ecslocal, and
			// the engine then watches target health: the health tests cover them.
			name: "a Fargate service in a VPC gets every setting",
			template: deploy.ServiceTemplate{
				LaunchType: "FARGATE", PlatformVersion: "1.4.0",
				Network:                       &deploy.NetworkConfig{Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: true},
				ServiceRegistries:             []string{"arn:aws:servicediscovery:eu-west-1:000000000000:service/srv-1"},
				HealthCheckGracePeriodSeconds: &grace, EnableExecuteCommand: true, PropagateTags: "SERVICE",
				Tags: map[string]string{"team": "web", deploy.OwnerTag: "someone else", deploy.RevisionTag: "99"},
			},
			check: func(t *testing.T, svc types.Service) {
				if svc.LaunchType != types.LaunchTypeFargate || aws.ToString(svc.PlatformVersion) != "1.4.0" {
					t.Errorf("launch type %s platform %s", svc.LaunchType, aws.ToString(svc.PlatformVersion))
				}
				vpc := svc.NetworkConfiguration.AwsvpcConfiguration
				if !reflect.DeepEqual(vpc.Subnets, []string{"subnet-1", "subnet-2"}) || !reflect.DeepEqual(vpc.SecurityGroups, []string{"sg-1"}) || vpc.AssignPublicIp != types.AssignPublicIpEnabled {
					t.Errorf("network configuration %+v", vpc)
				}
				if len(svc.ServiceRegistries) != 1 || !strings.HasSuffix(aws.ToString(svc.ServiceRegistries[0].RegistryArn), "service/srv-1") {
					t.Errorf("service registries %+v", svc.ServiceRegistries)
				}
				if aws.ToInt32(svc.HealthCheckGracePeriodSeconds) != 30 || !svc.EnableExecuteCommand || svc.PropagateTags != types.PropagateTagsService {
					t.Errorf("grace period %d, execute command %v, propagate tags %s", aws.ToInt32(svc.HealthCheckGracePeriodSeconds), svc.EnableExecuteCommand, svc.PropagateTags)
				}
				tags := map[string]string{}
				for _, tg := range svc.Tags {
					tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
				if want := map[string]string{"team": "web", deploy.OwnerTag: "prod/web", deploy.RevisionTag: "1"}; !reflect.DeepEqual(tags, want) || len(svc.Tags) != 3 {
					t.Errorf("tags %v, want %v", svc.Tags, want)
				}
			},
		},
		{
			name: "a capacity provider strategy and a private VPC are passed as they are",
			template: deploy.ServiceTemplate{
				CapacityProviderStrategy: []deploy.CapacityProvider{{CapacityProvider: "FARGATE_SPOT", Weight: 3, Base: 1}, {CapacityProvider: "FARGATE", Weight: 1}},
				Network:                  &deploy.NetworkConfig{Subnets: []string{"subnet-1"}},
			},
			check: func(t *testing.T, svc types.Service) {
				want := []types.CapacityProviderStrategyItem{
					{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 3, Base: 1},
					{CapacityProvider: aws.String("FARGATE"), Weight: 1},
				}
				if !reflect.DeepEqual(svc.CapacityProviderStrategy, want) || svc.LaunchType != "" {
					t.Errorf("capacity provider strategy %+v launch type %q, want %+v and none", svc.CapacityProviderStrategy, svc.LaunchType, want)
				}
				if vpc := svc.NetworkConfiguration.AwsvpcConfiguration; vpc.AssignPublicIp != types.AssignPublicIpDisabled {
					t.Errorf("assign public IP %s, want DISABLED", vpc.AssignPublicIp)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := baseConfig(tdHealthy1, 2)
			cfg.Service = tc.template
			e.mustDeploy(cfg, deploy.State{})
			out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{
				Cluster: aws.String("prod"), Services: []string{"web__1"}, Include: []types.ServiceField{types.ServiceFieldTags},
			})
			if err != nil || len(out.Services) != 1 {
				t.Fatalf("describing web__1: %v", err)
			}
			tc.check(t, out.Services[0])
		})
	}
}
