package ecslocal_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aatypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestECS_ListClusters(t *testing.T) {
	e := newEnv(t, 0, 0)
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("c%d", i)
		if _, err := e.ecs.CreateCluster(opsCtx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, opsArnPrefix+"cluster/"+name)
		e.clock.Advance(time.Second)
	}
	all, err := e.ecs.ListClusters(opsCtx, &ecs.ListClustersInput{})
	if err != nil || !slices.Equal(all.ClusterArns, want) || all.NextToken != nil {
		t.Fatalf("ListClusters: %v %v %v", all.ClusterArns, all.NextToken, err)
	}
	var paged []string
	p := ecs.NewListClustersPaginator(e.ecs, &ecs.ListClustersInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(opsCtx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		paged = append(paged, page.ClusterArns...)
	}
	if !slices.Equal(paged, want) || pages != 3 {
		t.Fatalf("paged %v in %d pages", paged, pages)
	}
	for _, in := range []ecs.ListClustersInput{{MaxResults: aws.Int32(0)}, {MaxResults: aws.Int32(101)}, {NextToken: aws.String("bogus")}} {
		_, err := e.ecs.ListClusters(opsCtx, &in)
		opsIs[*types.InvalidParameterException](t, err, "")
	}
}

func TestECS_ListTaskDefinitions(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.seed(t) // web:1, web:2, web:3
	for _, fam := range []string{"api", "webapp"} {
		if _, err := e.ecs.RegisterTaskDefinition(opsCtx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(fam), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("c"), Image: aws.String("nginx")}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	td := func(s string) string { return opsArnPrefix + "task-definition/" + s }
	list := func(in ecs.ListTaskDefinitionsInput) []string {
		t.Helper()
		var out []string
		p := ecs.NewListTaskDefinitionsPaginator(e.ecs, &in)
		for p.HasMorePages() {
			page, err := p.NextPage(opsCtx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.TaskDefinitionArns...)
		}
		return out
	}
	asc := []string{td("api:1"), td("web:1"), td("web:2"), td("web:3"), td("webapp:1")}
	if got := list(ecs.ListTaskDefinitionsInput{}); !slices.Equal(got, asc) {
		t.Fatalf("ASC %v", got)
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	if got := list(ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc, MaxResults: aws.Int32(2)}); !slices.Equal(got, desc) {
		t.Fatalf("DESC in pages of 2: %v", got)
	}
	// familyPrefix is the whole family name: "web" does not match "webapp".
	if got := list(ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web")}); !slices.Equal(got, asc[1:4]) {
		t.Fatalf("familyPrefix web: %v", got)
	}
	if got := list(ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("we")}); len(got) != 0 {
		t.Fatalf("familyPrefix we: %v", got)
	}
	one, err := e.ecs.ListTaskDefinitions(opsCtx, &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(1)})
	if err != nil || len(one.TaskDefinitionArns) != 1 || one.NextToken == nil {
		t.Fatalf("a page of 1: %v %v", one, err)
	}

	// INACTIVE revisions are listed while an active service or task references them.
	e.createService(t, "web__1", "web:1", 1)
	for _, rev := range []string{"web:1", "web:2"} {
		if _, err := e.ecs.DeregisterTaskDefinition(opsCtx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(rev)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := list(ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive}); !slices.Equal(got, []string{td("web:1")}) {
		t.Fatalf("INACTIVE: %v", got)
	}
	if got := list(ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web")}); !slices.Equal(got, []string{td("web:3")}) {
		t.Fatalf("ACTIVE web after deregistering: %v", got)
	}
	if got := list(ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusDeleteInProgress}); len(got) != 0 {
		t.Fatalf("DELETE_IN_PROGRESS: %v", got)
	}
	for _, in := range []ecs.ListTaskDefinitionsInput{
		{MaxResults: aws.Int32(0)}, {MaxResults: aws.Int32(101)}, {NextToken: aws.String("bogus")},
		{Status: "GONE"}, {Sort: "SIDEWAYS"},
	} {
		_, err := e.ecs.ListTaskDefinitions(opsCtx, &in)
		opsIs[*types.InvalidParameterException](t, err, "")
	}
}

// TestAutoScaling_DescribeScalingActivities: a RegisterScalableTarget that moves the count into
// the new range and an AutoScale that moves it are scaling activities, newest first.
func TestAutoScaling_DescribeScalingActivities(t *testing.T) {
	e := aasEnv(t)                   // web__1 runs 2 tasks, api__1 1
	e.aasRegister(t, "web__1", 3, 6) // 2 -> 3, once the activity completes
	e.clock.Advance(aasClampDelay)
	e.aasRegister(t, "web__1", 3, 6) // no change: no activity
	e.aasRegister(t, "api__1", 0, 4)
	e.aasPut(t, aasCPUPolicy("web__1", "cpu", 60))
	if _, err := e.srv.AutoScale("prod", "web__1", 5); err != nil { // 3 -> 5
		t.Fatal(err)
	}
	if _, err := e.srv.AutoScale("prod", "api__1", 0); err != nil { // 1 -> 0, no policy
		t.Fatal(err)
	}
	e.aasRegister(t, "web__1", 1, 4) // 5 -> 4
	e.clock.Advance(aasClampDelay)

	acts := func(in aas.DescribeScalingActivitiesInput) []aatypes.ScalingActivity {
		t.Helper()
		var out []aatypes.ScalingActivity
		p := aas.NewDescribeScalingActivitiesPaginator(e.aas, &in)
		for p.HasMorePages() {
			page, err := p.NextPage(opsCtx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.ScalingActivities...)
		}
		return out
	}
	all := acts(aas.DescribeScalingActivitiesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(1)})
	var got []string
	for _, a := range all {
		got = append(got, fmt.Sprintf("%s %s|%s|%s", aws.ToString(a.ResourceId), aws.ToString(a.Description), aws.ToString(a.Cause), a.StatusCode))
		if aws.ToString(a.StatusMessage) != strings.Replace(aws.ToString(a.Description), "Setting", "Successfully set", 1)+" Change successfully fulfilled by ecs." ||
			a.StartTime == nil || a.EndTime == nil || a.ScalableDimension != aatypes.ScalableDimensionECSServiceDesiredCount || aws.ToString(a.ActivityId) == "" {
			t.Fatalf("activity %+v", a)
		}
	}
	want := []string{
		"service/prod/web__1 Setting desired count to 4.|maximum capacity was set to 4|Successful",
		"service/prod/api__1 Setting desired count to 0.|ecslocal AutoScale control call|Successful",
		"service/prod/web__1 Setting desired count to 5.|monitor alarm TargetTracking-service/prod/web__1-AlarmHigh-",
		"service/prod/web__1 Setting desired count to 3.|minimum capacity was set to 3|Successful",
	}
	if len(got) != len(want) {
		t.Fatalf("activities %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("activity %d: %q, want %q…", i, got[i], want[i])
		}
	}
	if !strings.HasSuffix(got[2], " in state ALARM triggered policy cpu|Successful") {
		t.Fatalf("policy activity %q", got[2])
	}
	if web := acts(aas.DescribeScalingActivitiesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
		ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount}); len(web) != 3 {
		t.Fatalf("web__1 activities: %d", len(web))
	}
	if other := acts(aas.DescribeScalingActivitiesInput{ServiceNamespace: aatypes.ServiceNamespaceDynamodb}); len(other) != 0 {
		t.Fatalf("dynamodb activities: %d", len(other))
	}
	for _, c := range []struct {
		in   aas.DescribeScalingActivitiesInput
		code string
	}{
		{aas.DescribeScalingActivitiesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(51)}, "ValidationException"},
		{aas.DescribeScalingActivitiesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(0)}, "ValidationException"},
		{aas.DescribeScalingActivitiesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount}, "ValidationException"},
		{aas.DescribeScalingActivitiesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, NextToken: aws.String("bogus")}, "InvalidNextTokenException"},
	} {
		_, err := e.aas.DescribeScalingActivities(opsCtx, &c.in)
		var ae interface{ ErrorCode() string }
		if !errorsAs(err, &ae) || ae.ErrorCode() != c.code {
			t.Errorf("DescribeScalingActivities(%+v): %v, want %s", c.in, err, c.code)
		}
	}
}

// TestWire_NoNullMembers: AWS omits members without a value; ecslocal writes no JSON null in any
// answer, the list calls' next tokens on their last page included.
func TestWire_NoNullMembers(t *testing.T) {
	e := aasEnv(t)
	e.aasRegister(t, "web__1", 1, 4)
	e.aasPut(t, aasCPUPolicy("web__1", "cpu", 60))
	if _, err := e.srv.AutoScale("prod", "web__1", 3); err != nil {
		t.Fatal(err)
	}
	task := e.opsListTasks(t, "web__1", types.DesiredStatusRunning)[0]
	const ecsT, aasT = "AmazonEC2ContainerServiceV20141113.", "AnyScaleFrontendService."
	for _, c := range []struct{ target, body string }{
		{ecsT + "ListServices", `{"cluster":"prod"}`},
		{ecsT + "ListTasks", `{"cluster":"prod"}`},
		{ecsT + "ListContainerInstances", `{"cluster":"prod"}`},
		{ecsT + "ListClusters", `{}`},
		{ecsT + "ListTaskDefinitions", `{}`},
		{ecsT + "DescribeClusters", `{"clusters":["prod","nope"],"include":["TAGS"]}`},
		{ecsT + "DescribeServices", `{"cluster":"prod","services":["web__1","nope"],"include":["TAGS"]}`},
		{ecsT + "DescribeTasks", `{"cluster":"prod","tasks":["` + task + `"]}`},
		{ecsT + "DescribeTaskDefinition", `{"taskDefinition":"web:1","include":["TAGS"]}`},
		{ecsT + "UpdateService", `{"cluster":"prod","service":"api__1","desiredCount":2}`},
		{ecsT + "CreateService", `{"cluster":"prod","serviceName":"new__1","taskDefinition":"web:1","desiredCount":1}`},
		{aasT + "DescribeScalableTargets", `{"ServiceNamespace":"ecs"}`},
		{aasT + "DescribeScalingPolicies", `{"ServiceNamespace":"ecs"}`},
		{aasT + "DescribeScalingActivities", `{"ServiceNamespace":"ecs"}`},
	} {
		req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", c.target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || strings.Contains(string(b), "null") {
			t.Errorf("%s: %d %s", c.target, resp.StatusCode, b)
		}
	}
}
