package ecslocal_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The ARNs ecslocal gives resources for a client configured for eu-west-1 (newEnv).
const (
	opsArnPrefix  = "arn:aws:ecs:eu-west-1:000000000000:"
	opsClusterArn = opsArnPrefix + "cluster/prod"
)

var (
	opsCtx           = context.Background()
	opsDeploymentID  = regexp.MustCompile(`^ecs-svc/\d{19}$`)
	opsTaskArnFormat = regexp.MustCompile(`^arn:aws:ecs:eu-west-1:000000000000:task/prod/[0-9a-f]{32}$`)
)

// opsAPIError is what the SDK's modeled errors (*types.ClientException, ...) implement.
type opsAPIError interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// opsErrCheck asserts something about the error of a call.
type opsErrCheck func(t *testing.T, err error)

// opsAs asserts that err is (or wraps) the SDK's typed error T and, when msg is not empty, that
// its message is exactly msg.
// opsIs asserts like opsAs where the typed error itself is not needed.
func opsIs[T opsAPIError](t *testing.T, err error, msg string) {
	t.Helper()
	_ = opsAs[T](t, err, msg)
}

func opsAs[T opsAPIError](t *testing.T, err error, msg string) T {
	t.Helper()
	var target T
	if err == nil {
		t.Fatalf("got no error, want %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("got %v (%T), want %T", err, err, target)
	}
	if msg != "" && target.ErrorMessage() != msg {
		t.Fatalf("%T message %q, want %q", target, target.ErrorMessage(), msg)
	}
	return target
}

// opsWant is opsAs as a table entry.
func opsWant[T opsAPIError](msg string) opsErrCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		opsIs[T](t, err, msg)
	}
}

// opsWantContains checks the typed error and that its message contains sub.
func opsWantContains[T opsAPIError](sub string) opsErrCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		got := opsAs[T](t, err, "")
		if !strings.Contains(got.ErrorMessage(), sub) {
			t.Fatalf("%T message %q does not contain %q", got, got.ErrorMessage(), sub)
		}
	}
}

// opsTags turns alternating keys and values into ECS tags.
func opsTags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// opsTagMap turns ECS tags into a map, failing on duplicate keys.
func opsTagMap(t *testing.T, tags []types.Tag) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, tg := range tags {
		if _, dup := m[*tg.Key]; dup {
			t.Fatalf("duplicate tag key %q in %v", *tg.Key, tags)
		}
		m[*tg.Key] = aws.ToString(tg.Value)
	}
	return m
}

func opsWantCounts(t *testing.T, svc types.Service, desired, running, pending int32) {
	t.Helper()
	if svc.DesiredCount != desired || svc.RunningCount != running || svc.PendingCount != pending {
		t.Fatalf("%s: desired/running/pending %d/%d/%d, want %d/%d/%d", *svc.ServiceName,
			svc.DesiredCount, svc.RunningCount, svc.PendingCount, desired, running, pending)
	}
}

func opsWantTags(t *testing.T, tags []types.Tag, want map[string]string) {
	t.Helper()
	got := opsTagMap(t, tags)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
}

// opsUpdate calls UpdateService on cluster prod and fails the test on error.
func (e *env) opsUpdate(t *testing.T, in ecs.UpdateServiceInput) *types.Service {
	t.Helper()
	if in.Cluster == nil {
		in.Cluster = aws.String("prod")
	}
	out, err := e.ecs.UpdateService(opsCtx, &in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Service
}

// opsDelete calls DeleteService on cluster prod and fails the test on error.
func (e *env) opsDelete(t *testing.T, name string, force bool) *types.Service {
	t.Helper()
	out, err := e.ecs.DeleteService(opsCtx, &ecs.DeleteServiceInput{
		Cluster: aws.String("prod"), Service: aws.String(name), Force: aws.Bool(force),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Service
}

// opsListTasks lists the task ARNs of cluster prod with a desired status and, optionally, a
// service.
func (e *env) opsListTasks(t *testing.T, service string, status types.DesiredStatus) []string {
	t.Helper()
	in := &ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: status}
	if service != "" {
		in.ServiceName = aws.String(service)
	}
	var arns []string
	p := ecs.NewListTasksPaginator(e.ecs, in)
	for p.HasMorePages() {
		page, err := p.NextPage(opsCtx)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, page.TaskArns...)
	}
	return arns
}

func TestECS_CreateCluster(t *testing.T) {
	t.Run("creating a cluster returns it ACTIVE with a regional ARN and its tags", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		out, err := e.ecs.CreateCluster(opsCtx, &ecs.CreateClusterInput{
			ClusterName: aws.String("prod"), Tags: opsTags("team", "payments"),
		})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Cluster
		if *c.ClusterArn != opsClusterArn || *c.ClusterName != "prod" || *c.Status != "ACTIVE" {
			t.Fatalf("cluster %s %s %s", *c.ClusterArn, *c.ClusterName, *c.Status)
		}
		opsWantTags(t, c.Tags, map[string]string{"team": "payments"})
	})

	t.Run("creating an existing cluster again is idempotent", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 0)
		again, err := e.ecs.CreateCluster(opsCtx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})
		if err != nil {
			t.Fatal(err)
		}
		if *again.Cluster.ClusterArn != opsClusterArn || again.Cluster.ActiveServicesCount != 1 {
			t.Fatalf("second CreateCluster: %s with %d services", *again.Cluster.ClusterArn, again.Cluster.ActiveServicesCount)
		}
		// The existing cluster, with its service, is still there.
		e.describe(t, "web__1")
	})

	t.Run("a cluster name with invalid characters is an InvalidParameterException", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		_, err := e.ecs.CreateCluster(opsCtx, &ecs.CreateClusterInput{ClusterName: aws.String("a.b")})
		opsIs[*types.InvalidParameterException](t, err, "")
	})
}

func TestECS_DescribeClusters(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	if _, err := e.ecs.CreateCluster(opsCtx, &ecs.CreateClusterInput{
		ClusterName: aws.String("tagged"), Tags: opsTags("env", "test", "owner", "me"),
	}); err != nil {
		t.Fatal(err)
	}
	e.createService(t, "web__1", "web:1", 2)
	e.clock.Advance(time.Second)

	for _, tc := range []struct {
		name     string
		in       ecs.DescribeClustersInput
		clusters []string // names
		failures []string // "arn reason"
		tags     map[string]string
	}{
		{
			name:     "a cluster found by name is described with its counts",
			in:       ecs.DescribeClustersInput{Clusters: []string{"prod"}},
			clusters: []string{"prod"},
		},
		{
			name:     "a cluster found by ARN is described",
			in:       ecs.DescribeClustersInput{Clusters: []string{opsClusterArn}},
			clusters: []string{"prod"},
		},
		{
			name:     "an unknown cluster is a MISSING failure with its ARN",
			in:       ecs.DescribeClustersInput{Clusters: []string{"prod", "nope"}},
			clusters: []string{"prod"},
			failures: []string{opsArnPrefix + "cluster/nope MISSING"},
		},
		{
			name:     "include TAGS returns the cluster's tags",
			in:       ecs.DescribeClustersInput{Clusters: []string{"tagged"}, Include: []types.ClusterField{types.ClusterFieldTags}},
			clusters: []string{"tagged"},
			tags:     map[string]string{"env": "test", "owner": "me"},
		},
		{
			name:     "without include TAGS no tags are returned",
			in:       ecs.DescribeClustersInput{Clusters: []string{"tagged"}},
			clusters: []string{"tagged"},
			tags:     map[string]string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.ecs.DescribeClusters(opsCtx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var names, failures []string
			for _, c := range out.Clusters {
				names = append(names, *c.ClusterName)
				if *c.Status != "ACTIVE" || *c.ClusterArn != opsArnPrefix+"cluster/"+*c.ClusterName {
					t.Errorf("cluster %s: status %s arn %s", *c.ClusterName, *c.Status, *c.ClusterArn)
				}
				if *c.ClusterName == "prod" && (c.ActiveServicesCount != 1 || c.RunningTasksCount != 2 || c.PendingTasksCount != 0) {
					t.Errorf("prod: %d services, %d running, %d pending; want 1, 2, 0",
						c.ActiveServicesCount, c.RunningTasksCount, c.PendingTasksCount)
				}
				if tc.tags != nil {
					opsWantTags(t, c.Tags, tc.tags)
				}
			}
			for _, f := range out.Failures {
				failures = append(failures, *f.Arn+" "+*f.Reason)
			}
			if !slices.Equal(names, tc.clusters) || !slices.Equal(failures, tc.failures) {
				t.Fatalf("clusters %v failures %v, want %v and %v", names, failures, tc.clusters, tc.failures)
			}
		})
	}
}

func TestECS_RegisterTaskDefinition(t *testing.T) {
	t.Run("each registration of a family gets the next revision", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		for rev := int32(1); rev <= 3; rev++ {
			td := e.registerWeb(t, "healthy")
			wantArn := fmt.Sprintf("%stask-definition/web:%d", opsArnPrefix, rev)
			if td.Revision != rev || *td.TaskDefinitionArn != wantArn || *td.Family != "web" || td.Status != types.TaskDefinitionStatusActive {
				t.Fatalf("registration %d: %s revision %d status %s", rev, *td.TaskDefinitionArn, td.Revision, td.Status)
			}
		}
		other, err := e.ecs.RegisterTaskDefinition(opsCtx, &ecs.RegisterTaskDefinitionInput{
			Family:               aws.String("api"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("api:1")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if other.TaskDefinition.Revision != 1 {
			t.Fatalf("another family starts at revision %d, want 1", other.TaskDefinition.Revision)
		}
	})

	t.Run("the registered containers and tags are echoed back", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		out, err := e.ecs.RegisterTaskDefinition(opsCtx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"),
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("web"), Image: aws.String("nginx:1.27"), Essential: aws.Bool(true),
				DockerLabels: map[string]string{"ecslocal.behavior": "slow-start=3s"},
			}},
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			Cpu:                     aws.String("256"), Memory: aws.String("512"),
			NetworkMode: types.NetworkModeAwsvpc,
			Tags:        opsTags("team", "payments"),
		})
		if err != nil {
			t.Fatal(err)
		}
		td := out.TaskDefinition
		if len(td.ContainerDefinitions) != 1 || *td.ContainerDefinitions[0].Image != "nginx:1.27" ||
			td.ContainerDefinitions[0].DockerLabels["ecslocal.behavior"] != "slow-start=3s" {
			t.Fatalf("containers %+v", td.ContainerDefinitions)
		}
		if aws.ToString(td.Cpu) != "256" || aws.ToString(td.Memory) != "512" || td.NetworkMode != types.NetworkModeAwsvpc {
			t.Fatalf("cpu %v memory %v network mode %v", td.Cpu, td.Memory, td.NetworkMode)
		}
		if !slices.Contains(td.Compatibilities, types.CompatibilityFargate) || td.RegisteredAt == nil {
			t.Fatalf("compatibilities %v registeredAt %v", td.Compatibilities, td.RegisteredAt)
		}
		opsWantTags(t, out.Tags, map[string]string{"team": "payments"})
	})

	web := func() []types.ContainerDefinition {
		return []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx")}}
	}
	for _, tc := range []struct {
		name  string
		in    ecs.RegisterTaskDefinitionInput
		check opsErrCheck
	}{
		{
			name:  "an empty family is a ClientException",
			in:    ecs.RegisterTaskDefinitionInput{Family: aws.String(""), ContainerDefinitions: web()},
			check: opsWant[*types.ClientException](""),
		},
		{
			name:  "a family with invalid characters is a ClientException",
			in:    ecs.RegisterTaskDefinitionInput{Family: aws.String("web app"), ContainerDefinitions: web()},
			check: opsWant[*types.ClientException](""),
		},
		{
			name:  "a family of 256 characters is a ClientException",
			in:    ecs.RegisterTaskDefinitionInput{Family: aws.String(strings.Repeat("f", 256)), ContainerDefinitions: web()},
			check: opsWant[*types.ClientException](""),
		},
		{
			name:  "an empty container list is a ClientException",
			in:    ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{}},
			check: opsWant[*types.ClientException]("Container list cannot be empty."),
		},
		{
			name: "a container without an image is a ClientException",
			in: ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
				ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web")}}},
			check: opsWant[*types.ClientException](""),
		},
		{
			name: "an unknown ecslocal.behavior label is a ClientException",
			in: ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
				ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx"),
					DockerLabels: map[string]string{"ecslocal.behavior": "explode"}}}},
			check: opsWantContains[*types.ClientException]("ecslocal.behavior"),
		},
		{
			name: "a behavior label with a bad duration is a ClientException",
			in: ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
				ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx"),
					DockerLabels: map[string]string{"ecslocal.behavior": "crash-after=soon"}}}},
			check: opsWantContains[*types.ClientException]("ecslocal.behavior"),
		},
		{
			name: "a tag with the reserved aws: prefix is an InvalidParameterException",
			in: ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: web(),
				Tags: opsTags("aws:owner", "me")},
			check: opsWant[*types.InvalidParameterException](""),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0, 0)
			_, err := e.ecs.RegisterTaskDefinition(opsCtx, &tc.in)
			tc.check(t, err)
			// A rejected registration does not use up a revision.
			td := e.registerWeb(t, "healthy")
			if td.Revision != 1 {
				t.Fatalf("next registration got revision %d, want 1", td.Revision)
			}
		})
	}
}

func TestECS_DescribeTaskDefinition(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.seed(t) // web:1, web:2, web:3
	if _, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{
		ResourceArn: aws.String(opsArnPrefix + "task-definition/web:2"), Tags: opsTags("team", "payments"),
	}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		ref     string
		include bool
		rev     int32
		tags    map[string]string // nil: no tags expected at all
		check   opsErrCheck
	}{
		{name: "a family resolves to its latest ACTIVE revision", ref: "web", rev: 3},
		{name: "family:revision resolves to that revision", ref: "web:1", rev: 1},
		{name: "an ARN resolves to its revision", ref: opsArnPrefix + "task-definition/web:2", rev: 2},
		{name: "include TAGS returns the task definition's tags", ref: "web:2", include: true, rev: 2,
			tags: map[string]string{"team": "payments"}},
		{name: "include TAGS on an untagged revision returns no tags", ref: "web:1", include: true, rev: 1,
			tags: map[string]string{}},
		{name: "an unknown family is a ClientException", ref: "nope",
			check: opsWant[*types.ClientException]("Unable to describe task definition.")},
		{name: "an unknown revision is a ClientException", ref: "web:9",
			check: opsWant[*types.ClientException]("Unable to describe task definition.")},
		{name: "an unknown ARN is a ClientException", ref: opsArnPrefix + "task-definition/api:1",
			check: opsWant[*types.ClientException]("Unable to describe task definition.")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(tc.ref)}
			if tc.include {
				in.Include = []types.TaskDefinitionField{types.TaskDefinitionFieldTags}
			}
			out, err := e.ecs.DescribeTaskDefinition(opsCtx, in)
			if tc.check != nil {
				tc.check(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantArn := fmt.Sprintf("%stask-definition/web:%d", opsArnPrefix, tc.rev)
			if out.TaskDefinition.Revision != tc.rev || *out.TaskDefinition.TaskDefinitionArn != wantArn {
				t.Fatalf("got %s, want %s", *out.TaskDefinition.TaskDefinitionArn, wantArn)
			}
			if tc.tags == nil {
				if out.Tags != nil {
					t.Fatalf("tags %v returned without include TAGS", out.Tags)
				}
			} else {
				opsWantTags(t, out.Tags, tc.tags)
			}
		})
	}

	t.Run("without include TAGS a tagged revision returns no tags", func(t *testing.T) {
		out, err := e.ecs.DescribeTaskDefinition(opsCtx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:2")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tags) != 0 {
			t.Fatalf("tags %v", out.Tags)
		}
	})
}

func TestECS_DeregisterTaskDefinition(t *testing.T) {
	t.Run("a deregistered revision is INACTIVE and can no longer be used by a service", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 1)
		out, err := e.ecs.DeregisterTaskDefinition(opsCtx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:3")})
		if err != nil {
			t.Fatal(err)
		}
		if out.TaskDefinition.Status != types.TaskDefinitionStatusInactive || out.TaskDefinition.DeregisteredAt == nil {
			t.Fatalf("status %s deregisteredAt %v", out.TaskDefinition.Status, out.TaskDefinition.DeregisteredAt)
		}

		// Still describable by revision, INACTIVE; the family now resolves to web:2.
		d, err := e.ecs.DescribeTaskDefinition(opsCtx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:3")})
		if err != nil {
			t.Fatal(err)
		}
		if d.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
			t.Fatalf("web:3 is %s", d.TaskDefinition.Status)
		}
		d, err = e.ecs.DescribeTaskDefinition(opsCtx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
		if err != nil {
			t.Fatal(err)
		}
		if d.TaskDefinition.Revision != 2 {
			t.Fatalf("family web resolves to revision %d after deregistering 3, want 2", d.TaskDefinition.Revision)
		}

		_, err = e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web__2"),
			TaskDefinition: aws.String("web:3"), DesiredCount: aws.Int32(1),
		})
		opsIs[*types.ClientException](t, err, "TaskDefinition is inactive")

		_, err = e.ecs.UpdateService(opsCtx, &ecs.UpdateServiceInput{
			Cluster: aws.String("prod"), Service: aws.String("web__1"), TaskDefinition: aws.String("web:3"),
		})
		opsIs[*types.ClientException](t, err, "TaskDefinition is inactive")

		// Deregistering again is harmless.
		again, err := e.ecs.DeregisterTaskDefinition(opsCtx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(opsArnPrefix + "task-definition/web:3")})
		if err != nil {
			t.Fatal(err)
		}
		if again.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
			t.Fatalf("status %s", again.TaskDefinition.Status)
		}
	})

	for _, tc := range []struct {
		name, ref string
	}{
		{"a family without a revision is a ClientException", "web"},
		{"an unknown revision is a ClientException", "web:7"},
		{"an unknown family is a ClientException", "nope:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0, 0)
			e.seed(t)
			_, err := e.ecs.DeregisterTaskDefinition(opsCtx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(tc.ref)})
			opsIs[*types.ClientException](t, err, "")
		})
	}
}

func TestECS_CreateService(t *testing.T) {
	t.Run("a created service is ACTIVE with a PRIMARY deployment and its tags", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		out, err := e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web__1"),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(2),
			Tags: opsTags("phased-deployment:id", "prod/web", "phased-deployment:revision", "1"),
		})
		if err != nil {
			t.Fatal(err)
		}
		svc := out.Service
		if got, want := *svc.ServiceArn, opsArnPrefix+"service/prod/web__1"; got != want {
			t.Errorf("serviceArn %s, want %s", got, want)
		}
		if *svc.ServiceName != "web__1" || *svc.ClusterArn != opsClusterArn || *svc.Status != "ACTIVE" {
			t.Errorf("name %s cluster %s status %s", *svc.ServiceName, *svc.ClusterArn, *svc.Status)
		}
		if *svc.TaskDefinition != opsArnPrefix+"task-definition/web:1" {
			t.Errorf("taskDefinition %s", *svc.TaskDefinition)
		}
		if svc.DesiredCount != 2 || svc.PendingCount != 2 || svc.RunningCount != 0 {
			t.Errorf("desired/pending/running %d/%d/%d, want 2/2/0", svc.DesiredCount, svc.PendingCount, svc.RunningCount)
		}
		if svc.LaunchType != types.LaunchTypeEc2 || svc.SchedulingStrategy != types.SchedulingStrategyReplica || svc.CreatedAt == nil {
			t.Errorf("launchType %s schedulingStrategy %s createdAt %v", svc.LaunchType, svc.SchedulingStrategy, svc.CreatedAt)
		}
		if len(svc.Deployments) != 1 {
			t.Fatalf("%d deployments", len(svc.Deployments))
		}
		d := svc.Deployments[0]
		if *d.Status != "PRIMARY" || !opsDeploymentID.MatchString(*d.Id) || *d.TaskDefinition != *svc.TaskDefinition ||
			d.DesiredCount != 2 || d.RolloutState != types.DeploymentRolloutStateInProgress {
			t.Errorf("deployment %s %s %s desired %d rollout %s", *d.Status, *d.Id, *d.TaskDefinition, d.DesiredCount, d.RolloutState)
		}
		opsWantTags(t, svc.Tags, map[string]string{"phased-deployment:id": "prod/web", "phased-deployment:revision": "1"})
		if len(svc.Events) == 0 || !strings.HasPrefix(*svc.Events[0].Message, "(service web__1) has started 2 tasks: (task ") {
			t.Errorf("events %+v", svc.Events)
		}
	})

	t.Run("a service name of 255 characters is accepted", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		e.seed(t)
		svc := e.createService(t, strings.Repeat("s", 255), "web:1", 0)
		if len(*svc.ServiceName) != 255 {
			t.Fatalf("name of %d characters", len(*svc.ServiceName))
		}
	})

	base := func(mut func(*ecs.CreateServiceInput)) ecs.CreateServiceInput {
		in := ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("api__1"),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1),
		}
		if mut != nil {
			mut(&in)
		}
		return in
	}
	for _, tc := range []struct {
		name  string
		in    ecs.CreateServiceInput
		check opsErrCheck
	}{
		{
			name:  "an empty service name is an InvalidParameterException",
			in:    base(func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String("") }),
			check: opsWant[*types.InvalidParameterException](""),
		},
		{
			name:  "a service name of 256 characters is an InvalidParameterException",
			in:    base(func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String(strings.Repeat("s", 256)) }),
			check: opsWant[*types.InvalidParameterException](""),
		},
		{
			name:  "a service name with a dot is an InvalidParameterException",
			in:    base(func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String("a.b") }),
			check: opsWant[*types.InvalidParameterException](""),
		},
		{
			name:  "a service name with a space is an InvalidParameterException",
			in:    base(func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String("a b") }),
			check: opsWant[*types.InvalidParameterException](""),
		},
		{
			name:  "a negative desired count is an InvalidParameterException",
			in:    base(func(in *ecs.CreateServiceInput) { in.DesiredCount = aws.Int32(-1) }),
			check: opsWant[*types.InvalidParameterException](""),
		},
		{
			name: "a launch type together with a capacity provider strategy is an InvalidParameterException",
			in: base(func(in *ecs.CreateServiceInput) {
				in.LaunchType = types.LaunchTypeFargate
				in.CapacityProviderStrategy = []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}}
			}),
			check: opsWant[*types.InvalidParameterException]("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."),
		},
		{
			name:  "an unknown cluster is a ClusterNotFoundException",
			in:    base(func(in *ecs.CreateServiceInput) { in.Cluster = aws.String("staging") }),
			check: opsWant[*types.ClusterNotFoundException]("Cluster not found."),
		},
		{
			name:  "an unknown task definition is a ClientException",
			in:    base(func(in *ecs.CreateServiceInput) { in.TaskDefinition = aws.String("web:42") }),
			check: opsWant[*types.ClientException]("TaskDefinition not found."),
		},
		{
			name:  "an unknown task definition family is a ClientException",
			in:    base(func(in *ecs.CreateServiceInput) { in.TaskDefinition = aws.String("nope") }),
			check: opsWant[*types.ClientException]("TaskDefinition not found."),
		},
		{
			name:  "the name of an ACTIVE service is an InvalidParameterException",
			in:    base(func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String("web__1") }),
			check: opsWant[*types.InvalidParameterException]("Creation of service was not idempotent."),
		},
		{
			name:  "a tag with the reserved aws: prefix is an InvalidParameterException",
			in:    base(func(in *ecs.CreateServiceInput) { in.Tags = opsTags("aws:cloudformation:stack-name", "x") }),
			check: opsWant[*types.InvalidParameterException](""),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0, 0)
			e.seed(t)
			e.createService(t, "web__1", "web:1", 1)
			_, err := e.ecs.CreateService(opsCtx, &tc.in)
			tc.check(t, err)
			// Nothing was created: only web__1 is listed.
			list, err := e.ecs.ListServices(opsCtx, &ecs.ListServicesInput{Cluster: aws.String("prod")})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(list.ServiceArns, []string{opsArnPrefix + "service/prod/web__1"}) {
				t.Fatalf("services after a failed CreateService: %v", list.ServiceArns)
			}
		})
	}

	t.Run("a retried create with the same client token returns the service instead of failing", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		in := ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), ClientToken: aws.String("token-1"),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1),
		}
		first, err := e.ecs.CreateService(opsCtx, &in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.ecs.CreateService(opsCtx, &in)
		if err != nil {
			t.Fatalf("retry with the same client token: %v", err)
		}
		if *again.Service.Deployments[0].Id != *first.Service.Deployments[0].Id {
			t.Fatalf("the retry made a new service (deployment %s, first %s)", *again.Service.Deployments[0].Id, *first.Service.Deployments[0].Id)
		}
		in.ClientToken = aws.String("token-2")
		_, err = e.ecs.CreateService(opsCtx, &in)
		opsIs[*types.InvalidParameterException](t, err, "Creation of service was not idempotent.")
	})

	t.Run("the name of a DRAINING service is taken, that of an INACTIVE one can be reused", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		first := e.createService(t, "web__1", "web:1", 1)
		e.clock.Advance(time.Second)
		if got := e.opsDelete(t, "web__1", true); *got.Status != "DRAINING" {
			t.Fatalf("deleted service is %s, want DRAINING", *got.Status)
		}
		in := ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web__1"),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1),
		}
		_, err := e.ecs.CreateService(opsCtx, &in)
		opsIs[*types.InvalidParameterException](t, err, "Creation of service was not idempotent.")

		e.clock.Advance(time.Second)
		if got := e.describe(t, "web__1"); *got.Status != "INACTIVE" {
			t.Fatalf("service is %s after its tasks stopped, want INACTIVE", *got.Status)
		}
		out, err := e.ecs.CreateService(opsCtx, &in)
		if err != nil {
			t.Fatalf("re-creating the INACTIVE name: %v", err)
		}
		if *out.Service.Status != "ACTIVE" || *out.Service.ServiceArn != *first.ServiceArn ||
			*out.Service.Deployments[0].Id == *first.Deployments[0].Id {
			t.Fatalf("re-created service %s %s deployment %s", *out.Service.ServiceArn, *out.Service.Status, *out.Service.Deployments[0].Id)
		}
		got := e.describe(t, "web__1")
		if *got.Status != "ACTIVE" || got.DesiredCount != 1 {
			t.Fatalf("described %s desired %d", *got.Status, got.DesiredCount)
		}
	})
}

func TestECS_UpdateService(t *testing.T) {
	t.Run("changing only the desired count keeps the PRIMARY deployment", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		created := e.createService(t, "web__1", "web:1", 1)
		got := e.opsUpdate(t, ecs.UpdateServiceInput{Service: aws.String("web__1"), DesiredCount: aws.Int32(3)})
		if got.DesiredCount != 3 || len(got.Deployments) != 1 || *got.Deployments[0].Id != *created.Deployments[0].Id ||
			got.Deployments[0].DesiredCount != 3 {
			t.Fatalf("desired %d, deployments %d (%s desired %d)", got.DesiredCount, len(got.Deployments),
				*got.Deployments[0].Id, got.Deployments[0].DesiredCount)
		}
		e.clock.Advance(time.Second)
		opsWantCounts(t, e.describe(t, "web__1"), 3, 3, 0)
	})

	t.Run("a new task definition makes a new PRIMARY deployment and drains the old one", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 2)
		e.clock.Advance(time.Second)
		oldID := *e.describe(t, "web__1").Deployments[0].Id
		td := e.registerWeb(t, "healthy") // web:4

		got := e.opsUpdate(t, ecs.UpdateServiceInput{Service: aws.String("web__1"), TaskDefinition: aws.String("web:4")})
		if *got.TaskDefinition != *td.TaskDefinitionArn || len(got.Deployments) != 2 {
			t.Fatalf("taskDefinition %s, %d deployments", *got.TaskDefinition, len(got.Deployments))
		}
		primary, old := got.Deployments[0], got.Deployments[1]
		if *primary.Status != "PRIMARY" || *primary.Id == oldID || !opsDeploymentID.MatchString(*primary.Id) ||
			*primary.TaskDefinition != *td.TaskDefinitionArn || primary.DesiredCount != 2 || primary.PendingCount != 2 {
			t.Fatalf("new deployment %s %s %s desired %d pending %d", *primary.Status, *primary.Id, *primary.TaskDefinition,
				primary.DesiredCount, primary.PendingCount)
		}
		if *old.Status != "ACTIVE" || *old.Id != oldID || old.RunningCount != 2 {
			t.Fatalf("old deployment %s %s running %d", *old.Status, *old.Id, old.RunningCount)
		}

		// The new tasks run; the old ones are told to stop and keep running for the stop delay.
		e.clock.Advance(time.Second)
		mid := e.describe(t, "web__1")
		if len(mid.Deployments) != 2 || *mid.Deployments[1].Status != "ACTIVE" || mid.Deployments[1].DesiredCount != 0 ||
			mid.Deployments[0].RunningCount != 2 {
			t.Fatalf("after the start delay: %d deployments: %+v", len(mid.Deployments), mid.Deployments)
		}

		// Once the old tasks have stopped the old deployment is gone.
		e.clock.Advance(time.Second)
		done := e.describe(t, "web__1")
		if len(done.Deployments) != 1 || *done.Deployments[0].Id != *primary.Id ||
			done.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
			t.Fatalf("after the stop delay: %+v", done.Deployments)
		}
		opsWantCounts(t, done, 2, 2, 0)
	})

	t.Run("forceNewDeployment with the same task definition makes a new deployment", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		created := e.createService(t, "web__1", "web:1", 1)
		got := e.opsUpdate(t, ecs.UpdateServiceInput{Service: aws.String("web__1"), ForceNewDeployment: true})
		if len(got.Deployments) != 2 || *got.Deployments[0].Id == *created.Deployments[0].Id ||
			*got.Deployments[1].Id != *created.Deployments[0].Id {
			t.Fatalf("deployments %+v", got.Deployments)
		}
	})

	for _, tc := range []struct {
		name  string
		in    ecs.UpdateServiceInput
		check opsErrCheck
	}{
		{
			name:  "an unknown service is a ServiceNotFoundException",
			in:    ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("nope"), DesiredCount: aws.Int32(1)},
			check: opsWant[*types.ServiceNotFoundException]("Service not found."),
		},
		{
			name:  "an unknown cluster is a ClusterNotFoundException",
			in:    ecs.UpdateServiceInput{Cluster: aws.String("staging"), Service: aws.String("web__1"), DesiredCount: aws.Int32(1)},
			check: opsWant[*types.ClusterNotFoundException]("Cluster not found."),
		},
		{
			name:  "a DRAINING service is a ServiceNotActiveException",
			in:    ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("draining__1"), DesiredCount: aws.Int32(1)},
			check: opsWant[*types.ServiceNotActiveException]("Service was not ACTIVE."),
		},
		{
			name:  "an INACTIVE service is a ServiceNotActiveException",
			in:    ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("inactive__1"), DesiredCount: aws.Int32(1)},
			check: opsWant[*types.ServiceNotActiveException]("Service was not ACTIVE."),
		},
		{
			name:  "a negative desired count is an InvalidParameterException",
			in:    ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), DesiredCount: aws.Int32(-2)},
			check: opsWant[*types.InvalidParameterException](""),
		},
		{
			name:  "an unknown task definition is a ClientException",
			in:    ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), TaskDefinition: aws.String("web:99")},
			check: opsWant[*types.ClientException]("TaskDefinition not found."),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, time.Second, time.Second)
			e.seed(t)
			e.createService(t, "web__1", "web:1", 1)
			e.createService(t, "draining__1", "web:1", 1)
			e.createService(t, "inactive__1", "web:1", 0)
			e.clock.Advance(time.Second)
			e.opsDelete(t, "draining__1", true)
			e.opsDelete(t, "inactive__1", false)
			_, err := e.ecs.UpdateService(opsCtx, &tc.in)
			tc.check(t, err)
			// web__1 is unchanged.
			got := e.describe(t, "web__1")
			if got.DesiredCount != 1 || len(got.Deployments) != 1 || *got.TaskDefinition != opsArnPrefix+"task-definition/web:1" {
				t.Fatalf("web__1 changed: desired %d, %d deployments, %s", got.DesiredCount, len(got.Deployments), *got.TaskDefinition)
			}
		})
	}
}

func TestECS_DescribeServices(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	if _, err := e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(1), Tags: opsTags("team", "payments"),
	}); err != nil {
		t.Fatal(err)
	}
	e.createService(t, "old__1", "web:1", 0)
	e.opsDelete(t, "old__1", false)
	e.clock.Advance(time.Second)
	webArn := opsArnPrefix + "service/prod/web__1"

	for _, tc := range []struct {
		name     string
		in       ecs.DescribeServicesInput
		services []string // "name status"
		failures []string // "arn reason"
		tags     map[string]string
		check    opsErrCheck
	}{
		{
			name:     "a service found by name is described",
			in:       ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1"}},
			services: []string{"web__1 ACTIVE"},
		},
		{
			name:     "a service found by ARN in a cluster given by ARN is described",
			in:       ecs.DescribeServicesInput{Cluster: aws.String(opsClusterArn), Services: []string{webArn}},
			services: []string{"web__1 ACTIVE"},
		},
		{
			name:     "an unknown service name is a MISSING failure with the service's ARN",
			in:       ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1", "nope"}},
			services: []string{"web__1 ACTIVE"},
			failures: []string{opsArnPrefix + "service/prod/nope MISSING"},
		},
		{
			name:     "an unknown service ARN is a MISSING failure with that ARN",
			in:       ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{opsArnPrefix + "service/prod/gone"}},
			failures: []string{opsArnPrefix + "service/prod/gone MISSING"},
		},
		{
			name:     "an INACTIVE service is still returned, with status INACTIVE",
			in:       ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"old__1"}},
			services: []string{"old__1 INACTIVE"},
		},
		{
			name: "include TAGS returns the service's tags",
			in: ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1"},
				Include: []types.ServiceField{types.ServiceFieldTags}},
			services: []string{"web__1 ACTIVE"},
			tags:     map[string]string{"team": "payments"},
		},
		{
			name:     "without include TAGS no tags are returned",
			in:       ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1"}},
			services: []string{"web__1 ACTIVE"},
			tags:     map[string]string{},
		},
		{
			name:     "ten services are allowed",
			in:       ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1", "b", "c", "d", "e", "f", "g", "h", "i", "j"}},
			services: []string{"web__1 ACTIVE"},
			failures: []string{
				opsArnPrefix + "service/prod/b MISSING", opsArnPrefix + "service/prod/c MISSING", opsArnPrefix + "service/prod/d MISSING",
				opsArnPrefix + "service/prod/e MISSING", opsArnPrefix + "service/prod/f MISSING", opsArnPrefix + "service/prod/g MISSING",
				opsArnPrefix + "service/prod/h MISSING", opsArnPrefix + "service/prod/i MISSING", opsArnPrefix + "service/prod/j MISSING",
			},
		},
		{
			name:  "more than ten services is an InvalidParameterException",
			in:    ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: strings.Split("a b c d e f g h i j k", " ")},
			check: opsWant[*types.InvalidParameterException]("service names can have at most 10 items."),
		},
		{
			name:  "no services is an InvalidParameterException",
			in:    ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{}},
			check: opsWant[*types.InvalidParameterException]("Services cannot be empty."),
		},
		{
			name:  "an unknown cluster is a ClusterNotFoundException",
			in:    ecs.DescribeServicesInput{Cluster: aws.String("staging"), Services: []string{"web__1"}},
			check: opsWant[*types.ClusterNotFoundException]("Cluster not found."),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.ecs.DescribeServices(opsCtx, &tc.in)
			if tc.check != nil {
				tc.check(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var services, failures []string
			for _, s := range out.Services {
				services = append(services, *s.ServiceName+" "+*s.Status)
				if tc.tags != nil {
					opsWantTags(t, s.Tags, tc.tags)
				}
			}
			for _, f := range out.Failures {
				failures = append(failures, *f.Arn+" "+*f.Reason)
			}
			if !slices.Equal(services, tc.services) || !slices.Equal(failures, tc.failures) {
				t.Fatalf("services %v failures %v, want %v and %v", services, failures, tc.services, tc.failures)
			}
		})
	}
}

func TestECS_ListServices(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	var want []string
	for i := 1; i <= 25; i++ {
		name := fmt.Sprintf("svc%02d__1", i)
		e.createService(t, name, "web:1", 0)
		want = append(want, opsArnPrefix+"service/prod/"+name)
	}
	// A DRAINING and an INACTIVE service are not listed.
	e.createService(t, "draining__1", "web:1", 1)
	e.createService(t, "inactive__1", "web:1", 0)
	e.clock.Advance(time.Second)
	e.opsDelete(t, "draining__1", true)
	e.opsDelete(t, "inactive__1", false)
	if s := e.describe(t, "draining__1"); *s.Status != "DRAINING" {
		t.Fatalf("draining__1 is %s", *s.Status)
	}
	if s := e.describe(t, "inactive__1"); *s.Status != "INACTIVE" {
		t.Fatalf("inactive__1 is %s", *s.Status)
	}

	t.Run("a page holds 10 services by default and ends with a nextToken", func(t *testing.T) {
		out, err := e.ecs.ListServices(opsCtx, &ecs.ListServicesInput{Cluster: aws.String("prod")})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.ServiceArns, want[:10]) || out.NextToken == nil {
			t.Fatalf("first page %v, nextToken %v", out.ServiceArns, out.NextToken)
		}
		next, err := e.ecs.ListServices(opsCtx, &ecs.ListServicesInput{Cluster: aws.String("prod"), NextToken: out.NextToken})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(next.ServiceArns, want[10:20]) || next.NextToken == nil {
			t.Fatalf("second page %v", next.ServiceArns)
		}
	})

	for _, tc := range []struct {
		name  string
		limit int32 // 0: default
		pages []int
	}{
		{"the paginator walks every ACTIVE service in pages of 10", 0, []int{10, 10, 5}},
		{"the paginator honours a smaller page size", 7, []int{7, 7, 7, 4}},
		{"a page of 100 holds every service", 100, []int{25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ecs.NewListServicesPaginator(e.ecs, &ecs.ListServicesInput{Cluster: aws.String("prod")},
				func(o *ecs.ListServicesPaginatorOptions) {
					if tc.limit > 0 {
						o.Limit = tc.limit
					}
				})
			var got []string
			var sizes []int
			for p.HasMorePages() {
				page, err := p.NextPage(opsCtx)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page.ServiceArns...)
				sizes = append(sizes, len(page.ServiceArns))
			}
			if !slices.Equal(got, want) || !slices.Equal(sizes, tc.pages) {
				t.Fatalf("pages of %v: %v, want pages of %v: %v", sizes, got, tc.pages, want)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		in    ecs.ListServicesInput
		check opsErrCheck
	}{
		{"maxResults 101 is an InvalidParameterException",
			ecs.ListServicesInput{Cluster: aws.String("prod"), MaxResults: aws.Int32(101)},
			opsWant[*types.InvalidParameterException]("")},
		{"maxResults 0 is an InvalidParameterException",
			ecs.ListServicesInput{Cluster: aws.String("prod"), MaxResults: aws.Int32(0)},
			opsWant[*types.InvalidParameterException]("")},
		{"an invalid nextToken is an InvalidParameterException",
			ecs.ListServicesInput{Cluster: aws.String("prod"), NextToken: aws.String("not-a-token")},
			opsWant[*types.InvalidParameterException]("")},
		{"an unknown cluster is a ClusterNotFoundException",
			ecs.ListServicesInput{Cluster: aws.String("staging")},
			opsWant[*types.ClusterNotFoundException]("Cluster not found.")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecs.ListServices(opsCtx, &tc.in)
			tc.check(t, err)
		})
	}

	t.Run("the launchType filter matches the services' launch type", func(t *testing.T) {
		out, err := e.ecs.ListServices(opsCtx, &ecs.ListServicesInput{Cluster: aws.String("prod"), LaunchType: types.LaunchTypeFargate})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ServiceArns) != 0 {
			t.Fatalf("FARGATE services: %v", out.ServiceArns)
		}
	})
}

func TestECS_DeleteService(t *testing.T) {
	t.Run("a service scaled above 0 cannot be deleted without force", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 2)
		_, err := e.ecs.DeleteService(opsCtx, &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1")})
		opsIs[*types.InvalidParameterException](t, err, "The service cannot be stopped while it is scaled above 0.")
		if got := e.describe(t, "web__1"); *got.Status != "ACTIVE" || got.DesiredCount != 2 {
			t.Fatalf("after the refused delete: %s desired %d", *got.Status, got.DesiredCount)
		}
	})

	t.Run("force drains the service, which is INACTIVE once its tasks have stopped", func(t *testing.T) {
		e := newEnv(t, time.Second, 3*time.Second)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 2)
		e.clock.Advance(time.Second)
		got := e.opsDelete(t, "web__1", true)
		if *got.Status != "DRAINING" || got.DesiredCount != 0 {
			t.Fatalf("DeleteService returned %s desired %d", *got.Status, got.DesiredCount)
		}
		e.clock.Advance(2 * time.Second)
		if d := e.describe(t, "web__1"); *d.Status != "DRAINING" || d.RunningCount != 2 {
			t.Fatalf("before the stop delay: %s running %d", *d.Status, d.RunningCount)
		}
		e.clock.Advance(time.Second)
		d := e.describe(t, "web__1")
		if *d.Status != "INACTIVE" {
			t.Fatalf("after the stop delay: %s", *d.Status)
		}
		opsWantCounts(t, d, 0, 0, 0)
	})

	t.Run("a service at 0 is deleted without force", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 0)
		e.opsDelete(t, "web__1", false)
		if d := e.describe(t, "web__1"); *d.Status != "INACTIVE" {
			t.Fatalf("status %s", *d.Status)
		}
	})

	t.Run("deleting an INACTIVE service succeeds and returns it", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 0)
		e.opsDelete(t, "web__1", false)
		again := e.opsDelete(t, "web__1", false)
		if *again.Status != "INACTIVE" || *again.ServiceArn != opsArnPrefix+"service/prod/web__1" {
			t.Fatalf("second delete returned %s %s", *again.ServiceArn, *again.Status)
		}
	})

	for _, tc := range []struct {
		name  string
		in    ecs.DeleteServiceInput
		check opsErrCheck
	}{
		{"an unknown service is a ServiceNotFoundException",
			ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("nope"), Force: aws.Bool(true)},
			opsWant[*types.ServiceNotFoundException]("Service not found.")},
		{"an unknown cluster is a ClusterNotFoundException",
			ecs.DeleteServiceInput{Cluster: aws.String("staging"), Service: aws.String("web__1"), Force: aws.Bool(true)},
			opsWant[*types.ClusterNotFoundException]("Cluster not found.")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0, 0)
			e.seed(t)
			e.createService(t, "web__1", "web:1", 1)
			_, err := e.ecs.DeleteService(opsCtx, &tc.in)
			tc.check(t, err)
		})
	}
}

func TestECS_Tags(t *testing.T) {
	newTagEnv := func(t *testing.T) (*env, map[string]string) {
		e := newEnv(t, 0, 0)
		e.seed(t)
		svc := e.createService(t, "web__1", "web:1", 0)
		return e, map[string]string{
			"service":         *svc.ServiceArn,
			"cluster":         opsClusterArn,
			"task definition": opsArnPrefix + "task-definition/web:2",
		}
	}
	listTags := func(t *testing.T, e *env, arn string) map[string]string {
		t.Helper()
		out, err := e.ecs.ListTagsForResource(opsCtx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		return opsTagMap(t, out.Tags)
	}

	for _, kind := range []string{"service", "cluster", "task definition"} {
		t.Run("a "+kind+" is tagged, retagged and untagged by ARN", func(t *testing.T) {
			e, arns := newTagEnv(t)
			arn := arns[kind]
			if got := listTags(t, e, arn); len(got) != 0 {
				t.Fatalf("fresh %s has tags %v", kind, got)
			}
			if _, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: opsTags("a", "1", "b", "2")}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: opsTags("a", "3", "c", "")}); err != nil {
				t.Fatal(err)
			}
			if got := listTags(t, e, arn); fmt.Sprint(got) != fmt.Sprint(map[string]string{"a": "3", "b": "2", "c": ""}) {
				t.Fatalf("after tagging: %v", got)
			}
			if _, err := e.ecs.UntagResource(opsCtx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a", "c", "absent"}}); err != nil {
				t.Fatal(err)
			}
			if got := listTags(t, e, arn); fmt.Sprint(got) != fmt.Sprint(map[string]string{"b": "2"}) {
				t.Fatalf("after untagging: %v", got)
			}
		})
	}

	t.Run("a service's tags show in DescribeServices with include TAGS", func(t *testing.T) {
		e, arns := newTagEnv(t)
		if _, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{ResourceArn: aws.String(arns["service"]), Tags: opsTags("team", "payments")}); err != nil {
			t.Fatal(err)
		}
		out, err := e.ecs.DescribeServices(opsCtx, &ecs.DescribeServicesInput{
			Cluster: aws.String("prod"), Services: []string{"web__1"}, Include: []types.ServiceField{types.ServiceFieldTags},
		})
		if err != nil {
			t.Fatal(err)
		}
		opsWantTags(t, out.Services[0].Tags, map[string]string{"team": "payments"})
	})

	many := func(n int) []types.Tag {
		var kv []string
		for i := range n {
			kv = append(kv, fmt.Sprintf("k%02d", i), "v")
		}
		return opsTags(kv...)
	}
	for _, tc := range []struct {
		name  string
		tags  []types.Tag
		check opsErrCheck // nil: accepted
	}{
		{"50 tags are accepted", many(50), nil},
		{"51 tags are an InvalidParameterException", many(51), opsWant[*types.InvalidParameterException]("")},
		{"a key of 128 characters is accepted", opsTags(strings.Repeat("k", 128), "v"), nil},
		{"a key of 129 characters is an InvalidParameterException", opsTags(strings.Repeat("k", 129), "v"), opsWant[*types.InvalidParameterException]("")},
		{"an empty key is an InvalidParameterException", opsTags("", "v"), opsWant[*types.InvalidParameterException]("")},
		{"a value of 256 characters is accepted", opsTags("k", strings.Repeat("v", 256)), nil},
		{"a value of 257 characters is an InvalidParameterException", opsTags("k", strings.Repeat("v", 257)), opsWant[*types.InvalidParameterException]("")},
		{"a key with the aws: prefix is an InvalidParameterException", opsTags("aws:owner", "me"), opsWant[*types.InvalidParameterException]("")},
		{"a key with the AWS: prefix in any case is an InvalidParameterException", opsTags("AwS:owner", "me"), opsWant[*types.InvalidParameterException]("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, arns := newTagEnv(t)
			_, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{ResourceArn: aws.String(arns["service"]), Tags: tc.tags})
			if tc.check == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := listTags(t, e, arns["service"]); len(got) != len(tc.tags) {
					t.Fatalf("%d tags stored, want %d", len(got), len(tc.tags))
				}
				return
			}
			tc.check(t, err)
			if got := listTags(t, e, arns["service"]); len(got) != 0 {
				t.Fatalf("a rejected TagResource stored %v", got)
			}
		})
	}

	t.Run("tagging beyond 50 tags in total is an InvalidParameterException", func(t *testing.T) {
		e, arns := newTagEnv(t)
		if _, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{ResourceArn: aws.String(arns["service"]), Tags: many(50)}); err != nil {
			t.Fatal(err)
		}
		_, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{ResourceArn: aws.String(arns["service"]), Tags: opsTags("one", "more")})
		opsIs[*types.InvalidParameterException](t, err, "")
		// Overwriting an existing key is still fine.
		if _, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{ResourceArn: aws.String(arns["service"]), Tags: opsTags("k00", "new")}); err != nil {
			t.Fatal(err)
		}
	})

	for _, tc := range []struct {
		name, arn string
		check     opsErrCheck
	}{
		{"an unknown service ARN is a ResourceNotFoundException", opsArnPrefix + "service/prod/nope",
			opsWant[*types.ResourceNotFoundException]("")},
		{"a service ARN in an unknown cluster is a ClusterNotFoundException", opsArnPrefix + "service/staging/web__1",
			opsWant[*types.ClusterNotFoundException]("Cluster not found.")},
		{"an unknown cluster ARN is a ResourceNotFoundException", opsArnPrefix + "cluster/staging",
			opsWant[*types.ResourceNotFoundException]("")},
		{"an unknown task definition revision is a ResourceNotFoundException", opsArnPrefix + "task-definition/web:9",
			opsWant[*types.ResourceNotFoundException]("")},
		{"a name instead of an ARN is an InvalidParameterException", "web__1",
			opsWant[*types.InvalidParameterException]("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newTagEnv(t)
			_, err := e.ecs.TagResource(opsCtx, &ecs.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: opsTags("a", "1")})
			tc.check(t, err)
			_, err = e.ecs.UntagResource(opsCtx, &ecs.UntagResourceInput{ResourceArn: aws.String(tc.arn), TagKeys: []string{"a"}})
			tc.check(t, err)
			_, err = e.ecs.ListTagsForResource(opsCtx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
			tc.check(t, err)
		})
	}
}

func TestECS_ListTasks(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	e.createService(t, "web__1", "web:1", 3)
	e.createService(t, "api__1", "web:1", 1)
	e.clock.Advance(time.Second)
	webDeployment := *e.describe(t, "web__1").Deployments[0].Id
	e.opsUpdate(t, ecs.UpdateServiceInput{Service: aws.String("web__1"), DesiredCount: aws.Int32(1)})
	// A task that is still PENDING is desired RUNNING.
	e.createService(t, "pending__1", "web:1", 1)

	for _, tc := range []struct {
		name    string
		in      ecs.ListTasksInput
		n       int
		another bool // a nextToken is expected
	}{
		{"by default the tasks of every service desired RUNNING are listed",
			ecs.ListTasksInput{Cluster: aws.String("prod")}, 3, false},
		{"a PENDING task is listed as desired RUNNING",
			ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("pending__1")}, 1, false},
		{"serviceName lists that service's tasks",
			ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), DesiredStatus: types.DesiredStatusRunning}, 1, false},
		{"desiredStatus STOPPED lists the tasks being stopped",
			ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), DesiredStatus: types.DesiredStatusStopped}, 2, false},
		{"desiredStatus PENDING lists nothing because no task is ever desired PENDING",
			ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: types.DesiredStatusPending}, 0, false},
		{"startedBy filters by deployment id",
			ecs.ListTasksInput{Cluster: aws.String("prod"), StartedBy: aws.String(webDeployment), DesiredStatus: types.DesiredStatusStopped}, 2, false},
		{"family filters by task definition family",
			ecs.ListTasksInput{Cluster: aws.String("prod"), Family: aws.String("web")}, 3, false},
		{"an unknown family lists nothing",
			ecs.ListTasksInput{Cluster: aws.String("prod"), Family: aws.String("api")}, 0, false},
		{"maxResults limits a page and returns a nextToken",
			ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: types.DesiredStatusStopped, MaxResults: aws.Int32(1)}, 1, true},
		{"maxResults 100 is allowed",
			ecs.ListTasksInput{Cluster: aws.String("prod"), MaxResults: aws.Int32(100)}, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.ecs.ListTasks(opsCtx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.TaskArns) != tc.n || (out.NextToken != nil) != tc.another {
				t.Fatalf("%d tasks, nextToken %v; want %d, another page %v", len(out.TaskArns), out.NextToken, tc.n, tc.another)
			}
			for _, arn := range out.TaskArns {
				if !opsTaskArnFormat.MatchString(arn) {
					t.Errorf("task ARN %s", arn)
				}
			}
		})
	}

	t.Run("the paginator walks the stopped tasks one by one", func(t *testing.T) {
		p := ecs.NewListTasksPaginator(e.ecs, &ecs.ListTasksInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), DesiredStatus: types.DesiredStatusStopped,
		}, func(o *ecs.ListTasksPaginatorOptions) { o.Limit = 1 })
		var got []string
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(opsCtx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, page.TaskArns...)
		}
		if pages != 2 || len(got) != 2 || got[0] == got[1] {
			t.Fatalf("%d pages: %v", pages, got)
		}
	})

	t.Run("the serviceName filter keeps services apart", func(t *testing.T) {
		web := e.opsListTasks(t, "web__1", types.DesiredStatusRunning)
		api := e.opsListTasks(t, "api__1", types.DesiredStatusRunning)
		all := e.opsListTasks(t, "", types.DesiredStatusRunning)
		if len(web) != 1 || len(api) != 1 || web[0] == api[0] || len(all) != 3 {
			t.Fatalf("web %v api %v all %v", web, api, all)
		}
	})

	t.Run("stopped tasks stay listed as STOPPED after they stopped", func(t *testing.T) {
		e.clock.Advance(time.Second)
		if got := e.opsListTasks(t, "web__1", types.DesiredStatusStopped); len(got) != 2 {
			t.Fatalf("%d stopped tasks", len(got))
		}
	})

	for _, tc := range []struct {
		name  string
		in    ecs.ListTasksInput
		check opsErrCheck
	}{
		{"an unknown serviceName is a ServiceNotFoundException",
			ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("nope")},
			opsWant[*types.ServiceNotFoundException]("Service not found.")},
		{"an unknown cluster is a ClusterNotFoundException",
			ecs.ListTasksInput{Cluster: aws.String("staging")},
			opsWant[*types.ClusterNotFoundException]("Cluster not found.")},
		{"maxResults 101 is an InvalidParameterException",
			ecs.ListTasksInput{Cluster: aws.String("prod"), MaxResults: aws.Int32(101)},
			opsWant[*types.InvalidParameterException]("")},
		{"an invalid nextToken is an InvalidParameterException",
			ecs.ListTasksInput{Cluster: aws.String("prod"), NextToken: aws.String("%%%")},
			opsWant[*types.InvalidParameterException]("")},
		{"an invalid desiredStatus is an InvalidParameterException",
			ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: "SLEEPING"},
			opsWant[*types.InvalidParameterException]("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecs.ListTasks(opsCtx, &tc.in)
			tc.check(t, err)
		})
	}
}

func TestECS_DescribeTasks(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	e.createService(t, "web__1", "web:1", 2)
	e.clock.Advance(time.Second)
	deployment := *e.describe(t, "web__1").Deployments[0].Id
	running := e.opsListTasks(t, "web__1", types.DesiredStatusRunning)
	if len(running) != 2 {
		t.Fatalf("%d running tasks", len(running))
	}

	t.Run("a running service task has its group, startedBy and statuses", func(t *testing.T) {
		out, err := e.ecs.DescribeTasks(opsCtx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: running})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) != 2 || len(out.Failures) != 0 {
			t.Fatalf("%d tasks, failures %+v", len(out.Tasks), out.Failures)
		}
		for _, tk := range out.Tasks {
			if !slices.Contains(running, *tk.TaskArn) || *tk.ClusterArn != opsClusterArn ||
				*tk.TaskDefinitionArn != opsArnPrefix+"task-definition/web:1" {
				t.Errorf("task %s cluster %s task definition %s", *tk.TaskArn, *tk.ClusterArn, *tk.TaskDefinitionArn)
			}
			if *tk.Group != "service:web__1" || *tk.StartedBy != deployment {
				t.Errorf("group %s startedBy %s, want service:web__1 and %s", *tk.Group, *tk.StartedBy, deployment)
			}
			if *tk.LastStatus != "RUNNING" || *tk.DesiredStatus != "RUNNING" || tk.StartedAt == nil || tk.CreatedAt == nil {
				t.Errorf("lastStatus %s desiredStatus %s startedAt %v", *tk.LastStatus, *tk.DesiredStatus, tk.StartedAt)
			}
			if len(tk.Containers) != 1 || *tk.Containers[0].Name != "web" || *tk.Containers[0].LastStatus != "RUNNING" {
				t.Errorf("containers %+v", tk.Containers)
			}
		}
	})

	t.Run("a task scaled in is STOPPED with the scheduler's reason", func(t *testing.T) {
		e.opsUpdate(t, ecs.UpdateServiceInput{Service: aws.String("web__1"), DesiredCount: aws.Int32(1)})
		e.clock.Advance(time.Second)
		stopped := e.opsListTasks(t, "web__1", types.DesiredStatusStopped)
		if len(stopped) != 1 {
			t.Fatalf("%d stopped tasks", len(stopped))
		}
		out, err := e.ecs.DescribeTasks(opsCtx, &ecs.DescribeTasksInput{Cluster: aws.String(opsClusterArn), Tasks: stopped})
		if err != nil {
			t.Fatal(err)
		}
		tk := out.Tasks[0]
		if *tk.LastStatus != "STOPPED" || *tk.DesiredStatus != "STOPPED" || tk.StoppedAt == nil || tk.StoppingAt == nil ||
			tk.StopCode != types.TaskStopCodeServiceSchedulerInitiated ||
			*tk.StoppedReason != "Scaling activity initiated by (deployment "+deployment+")" {
			t.Fatalf("stopped task: %s/%s code %s reason %q", *tk.LastStatus, *tk.DesiredStatus, tk.StopCode, aws.ToString(tk.StoppedReason))
		}
	})

	t.Run("a task given by id is found", func(t *testing.T) {
		id := running[0][strings.LastIndex(running[0], "/")+1:]
		out, err := e.ecs.DescribeTasks(opsCtx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) != 1 || *out.Tasks[0].TaskArn != running[0] {
			t.Fatalf("tasks %+v failures %+v", out.Tasks, out.Failures)
		}
	})

	t.Run("an unknown task is a MISSING failure", func(t *testing.T) {
		missing := opsArnPrefix + "task/prod/00000000000000000000000000000000"
		out, err := e.ecs.DescribeTasks(opsCtx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{running[0], missing}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) != 1 || len(out.Failures) != 1 || *out.Failures[0].Arn != missing || *out.Failures[0].Reason != "MISSING" {
			t.Fatalf("tasks %d failures %+v", len(out.Tasks), out.Failures)
		}
	})

	for _, tc := range []struct {
		name  string
		in    ecs.DescribeTasksInput
		check opsErrCheck
	}{
		{"no tasks is an InvalidParameterException",
			ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{}},
			opsWant[*types.InvalidParameterException]("Tasks cannot be empty.")},
		{"more than 100 tasks is an InvalidParameterException",
			ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: slices.Repeat([]string{"x"}, 101)},
			opsWant[*types.InvalidParameterException]("")},
		{"an unknown cluster is a ClusterNotFoundException",
			ecs.DescribeTasksInput{Cluster: aws.String("staging"), Tasks: running},
			opsWant[*types.ClusterNotFoundException]("Cluster not found.")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecs.DescribeTasks(opsCtx, &tc.in)
			tc.check(t, err)
		})
	}
}
