package ecslocal_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// env is an in-process ecslocal with real SDK clients pointed at it.
type env struct {
	srv   *ecslocal.Server
	url   string
	ecs   *ecs.Client
	aas   *applicationautoscaling.Client
	elb   *elbv2.Client
	clock *ecslocal.FakeClock
}

// newEnv starts ecslocal on a fake clock (tasks move only when the test advances it) with the
// given delays.
func newEnv(t *testing.T, start, stop time.Duration) *env {
	t.Helper()
	return newEnvWith(t, ecslocal.Options{StartDelay: start, StopDelay: stop})
}

// newEnvWith starts ecslocal with the given options on a fake clock.
func newEnvWith(t *testing.T, opts ecslocal.Options) *env {
	t.Helper()
	clock := ecslocal.NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	opts.Clock = clock
	srv := ecslocal.New(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}
	return &env{
		srv: srv, url: hs.URL, clock: clock,
		ecs: ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(hs.URL) }),
		aas: applicationautoscaling.NewFromConfig(cfg, func(o *applicationautoscaling.Options) {
			o.BaseEndpoint = aws.String(hs.URL)
		}),
		elb: elbv2.NewFromConfig(cfg, func(o *elbv2.Options) { o.BaseEndpoint = aws.String(hs.URL) }),
	}
}

// seed creates cluster "prod" and registers web:1 (healthy), web:2 (crash-on-start) and
// web:3 (crash after 5 s).
func (e *env) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"healthy", "crash-on-start", "crash-after=5s"} {
		e.registerWeb(t, label)
	}
}

func (e *env) registerWeb(t *testing.T, behavior string) *types.TaskDefinition {
	t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx:1.27"), Essential: aws.Bool(true),
			DockerLabels: map[string]string{"ecslocal.behavior": behavior},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.TaskDefinition
}

func (e *env) createService(t *testing.T, name, td string, desired int32) *types.Service {
	t.Helper()
	out, err := e.ecs.CreateService(context.Background(), &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String(name),
		TaskDefinition: aws.String(td), DesiredCount: aws.Int32(desired),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Service
}

func (e *env) describe(t *testing.T, name string) types.Service {
	t.Helper()
	out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{
		Cluster: aws.String("prod"), Services: []string{name},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 1 {
		t.Fatalf("describe %s: %d services, failures %+v", name, len(out.Services), out.Failures)
	}
	return out.Services[0]
}

// errorsAs is errors.As, for tests that import no errors package.
func errorsAs(err error, target any) bool { return errors.As(err, target) }
