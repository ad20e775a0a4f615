package ecslocal_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestConsistencyLag: with Options.ConsistencyLag, new clusters and services are invisible to
// DescribeClusters, ListClusters, DescribeServices and ListServices for the lag, then visible; a
// new cluster is not found by CreateService either until the lag has passed.
func TestConsistencyLag(t *testing.T) {
	e := newEnvWith(t, ecslocal.Options{ConsistencyLag: 5 * time.Second})
	if err := e.srv.ApplySeed(ecslocal.Seed{Clusters: []string{"seeded"}}); err != nil {
		t.Fatal(err)
	}
	e.seed(t) // CreateCluster prod and task definitions at t0

	clusters := func() ([]string, []string) {
		t.Helper()
		out, err := e.ecs.DescribeClusters(opsCtx, &ecs.DescribeClustersInput{Clusters: []string{"prod", "seeded"}})
		if err != nil {
			t.Fatal(err)
		}
		var found, missing []string
		for _, c := range out.Clusters {
			found = append(found, aws.ToString(c.ClusterName))
		}
		for _, f := range out.Failures {
			missing = append(missing, aws.ToString(f.Arn)+" "+aws.ToString(f.Reason))
		}
		return found, missing
	}
	listed := func() []string {
		t.Helper()
		out, err := e.ecs.ListClusters(opsCtx, &ecs.ListClustersInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.ClusterArns
	}

	// Seeded clusters exist before anyone looks; a created one is MISSING for the lag.
	found, missing := clusters()
	if !slices.Equal(found, []string{"seeded"}) || !slices.Equal(missing, []string{opsClusterArn + " MISSING"}) {
		t.Fatalf("within the lag: clusters %v, failures %v", found, missing)
	}
	if got := listed(); !slices.Equal(got, []string{"arn:aws:ecs:us-east-1:000000000000:cluster/seeded"}) {
		t.Fatalf("within the lag ListClusters = %v", got)
	}
	_, err := e.ecs.ListServices(opsCtx, &ecs.ListServicesInput{Cluster: aws.String("prod")})
	opsIs[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	// Nor can a service be created in it yet.
	_, err = e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:1")})
	opsIs[*types.ClusterNotFoundException](t, err, "Cluster not found.")

	e.clock.Advance(5 * time.Second)
	found, missing = clusters()
	if !slices.Equal(found, []string{"prod", "seeded"}) || len(missing) != 0 {
		t.Fatalf("after the lag: clusters %v, failures %v", found, missing)
	}
	if got := listed(); len(got) != 2 {
		t.Fatalf("after the lag ListClusters = %v", got)
	}
	e.createService(t, "web__1", "web:1", 1)
	// web__1 was created 5 s ago: visible now. web__2, created now, is not for another 5 s.
	e.clock.Advance(5 * time.Second)
	e.createService(t, "web__2", "web:1", 1)
	describe := func() ([]string, []string) {
		t.Helper()
		out, err := e.ecs.DescribeServices(opsCtx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1", "web__2"}})
		if err != nil {
			t.Fatal(err)
		}
		var found, missing []string
		for _, s := range out.Services {
			found = append(found, aws.ToString(s.ServiceName))
		}
		for _, f := range out.Failures {
			missing = append(missing, aws.ToString(f.Arn)+" "+aws.ToString(f.Reason))
		}
		return found, missing
	}
	list := func() []string {
		t.Helper()
		out, err := e.ecs.ListServices(opsCtx, &ecs.ListServicesInput{Cluster: aws.String("prod")})
		if err != nil {
			t.Fatal(err)
		}
		return out.ServiceArns
	}
	found, missing = describe()
	if !slices.Equal(found, []string{"web__1"}) || !slices.Equal(missing, []string{opsArnPrefix + "service/prod/web__2 MISSING"}) {
		t.Fatalf("web__2 within the lag: services %v, failures %v", found, missing)
	}
	if got := list(); !slices.Equal(got, []string{opsArnPrefix + "service/prod/web__1"}) {
		t.Fatalf("web__2 within the lag: ListServices = %v", got)
	}
	// The service exists all the same: it is updated, and tasks run.
	if _, err := e.ecs.UpdateService(opsCtx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__2"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Second)
	found, missing = describe()
	if !slices.Equal(found, []string{"web__1", "web__2"}) || len(missing) != 0 {
		t.Fatalf("after the lag: services %v, failures %v", found, missing)
	}
	if got := list(); len(got) != 2 {
		t.Fatalf("after the lag: ListServices = %v", got)
	}
	if s := e.describe(t, "web__2"); s.DesiredCount != 2 || s.RunningCount != 2 {
		t.Fatalf("web__2 desired %d running %d", s.DesiredCount, s.RunningCount)
	}

	// The lag is part of the running configuration.
	cfg := e.srv.CurrentConfig()
	if time.Duration(cfg.ConsistencyLag) != 5*time.Second {
		t.Fatalf("config %+v", cfg)
	}
	var got map[string]any
	ctlOK(t, e, http.MethodPost, "config", `{"consistencyLag":"0s"}`, &got)
	if _, ok := got["consistencyLag"]; ok {
		t.Fatalf("config after setting the lag to 0: %v", got)
	}
	e.createService(t, "web__3", "web:1", 1)
	e.describe(t, "web__3")
}

// TestConsistencyLagServiceWrites: with Options.ConsistencyLag, CreateService, UpdateService and
// DeleteService do not find a cluster created less than the lag ago and answer
// ClusterNotFoundException, the error terraform-provider-aws retries CreateService on; the call
// log records it. A seeded cluster is there at once, and once the lag has passed the same
// requests succeed, the retried CreateService with its client token included.
func TestConsistencyLagServiceWrites(t *testing.T) {
	e := newEnvWith(t, ecslocal.Options{ConsistencyLag: 2 * time.Second})
	e.seed(t) // CreateCluster prod at t0
	if err := e.srv.ApplySeed(ecslocal.Seed{Clusters: []string{"seeded"}}); err != nil {
		t.Fatal(err)
	}
	create := &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(1), ClientToken: aws.String("token-1")}
	update := &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), DesiredCount: aws.Int32(2)}
	del := &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), Force: aws.Bool(true)}
	mark := len(e.srv.Calls())

	_, err := e.ecs.CreateService(opsCtx, create)
	opsIs[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	_, err = e.ecs.UpdateService(opsCtx, update)
	opsIs[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	_, err = e.ecs.DeleteService(opsCtx, del)
	opsIs[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	// A second before the lag ends, still not found.
	e.clock.Advance(time.Second)
	_, err = e.ecs.CreateService(opsCtx, create)
	opsIs[*types.ClusterNotFoundException](t, err, "Cluster not found.")
	// A seeded cluster exists before anyone looks.
	if _, err := e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{Cluster: aws.String("seeded"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:1")}); err != nil {
		t.Fatalf("CreateService in a seeded cluster: %v", err)
	}

	e.clock.Advance(time.Second)
	out, err := e.ecs.CreateService(opsCtx, create)
	if err != nil {
		t.Fatalf("CreateService once the lag has passed: %v", err)
	}
	if aws.ToString(out.Service.Status) != "ACTIVE" {
		t.Fatalf("created web__1 is %s", aws.ToString(out.Service.Status))
	}
	if _, err := e.ecs.UpdateService(opsCtx, update); err != nil {
		t.Fatalf("UpdateService once the lag has passed: %v", err)
	}
	if _, err := e.ecs.DeleteService(opsCtx, del); err != nil {
		t.Fatalf("DeleteService once the lag has passed: %v", err)
	}

	var got []string
	for _, c := range e.srv.Calls()[mark:] {
		got = append(got, c.Operation+" "+c.Resource+" "+c.ErrorCode)
	}
	want := []string{
		"CreateService web__1 ClusterNotFoundException",
		"UpdateService web__1 ClusterNotFoundException",
		"DeleteService web__1 ClusterNotFoundException",
		"CreateService web__1 ClusterNotFoundException",
		"CreateService web__1 ",
		"CreateService web__1 ",
		"UpdateService web__1 ",
		"DeleteService web__1 ",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("call log (operation resource error)\n%q\nwant\n%q", got, want)
	}
}

// TestFreshAccount: the first CreateService of an account without ECS's service-linked role fails
// once with the error ECS gives while it creates the role; the retry succeeds, and Reset arms the
// fault again.
func TestFreshAccount(t *testing.T) {
	const msg = "Unable to assume the service linked role. Please verify that the ECS service linked role exists."
	e := newEnvWith(t, ecslocal.Options{FreshAccount: true})
	e.seed(t)
	in := &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1)}
	// A request that fails validation first does not consume the fault.
	_, err := e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:42")})
	opsIs[*types.ClientException](t, err, "TaskDefinition not found.")
	_, err = e.ecs.CreateService(opsCtx, in)
	opsIs[*types.InvalidParameterException](t, err, msg)
	if _, err := e.ecs.DescribeServices(opsCtx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1"}}); err != nil {
		t.Fatal(err)
	}
	if s, err := e.ecs.CreateService(opsCtx, in); err != nil || aws.ToString(s.Service.Status) != "ACTIVE" {
		t.Fatalf("the retry: %v", err)
	}
	in.ServiceName = aws.String("web__2")
	if _, err := e.ecs.CreateService(opsCtx, in); err != nil {
		t.Fatalf("a later CreateService: %v", err)
	}
	calls := e.srv.Calls()
	var codes []string
	for _, c := range calls {
		if c.Operation == "CreateService" {
			codes = append(codes, c.ErrorCode)
		}
	}
	if !slices.Equal(codes, []string{"ClientException", "InvalidParameterException", "", ""}) {
		t.Fatalf("CreateService error codes %q", codes)
	}

	e.srv.Reset()
	e.seed(t)
	in.ServiceName = aws.String("web__1")
	_, err = e.ecs.CreateService(opsCtx, in)
	opsIs[*types.InvalidParameterException](t, err, msg)

	// Without the option nothing fails.
	plain := newEnv(t, 0, 0)
	plain.seed(t)
	plain.createService(t, "web__1", "web:1", 1)
}
