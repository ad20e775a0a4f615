package ecslocal_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aatypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
)

const (
	// aasClampDelay is how long after a RegisterScalableTarget ecslocal's scaling activity moves
	// the desired count into the new range (at a time scale of 1).
	aasClampDelay    = 5 * time.Second
	aasNotRegistered = "No scalable target registered for service namespace: ecs, resource ID: %s, scalable dimension: ecs:service:DesiredCount"
	aasUnsupported   = "Unsupported service namespace, resource type or scalable dimension"
)

var (
	aasTargetArnFormat = regexp.MustCompile(`^arn:aws:application-autoscaling:eu-west-1:000000000000:scalable-target/[0-9a-f]+$`)
	aasUUID            = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
)

// aasTarget is a RegisterScalableTargetInput for an ECS service of cluster prod.
func aasTarget(service string, lo, hi *int32) *aas.RegisterScalableTargetInput {
	return &aas.RegisterScalableTargetInput{
		ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
		ResourceId: aws.String("service/prod/" + service), MinCapacity: lo, MaxCapacity: hi,
	}
}

func (e *env) aasRegister(t *testing.T, service string, lo, hi int32) string {
	t.Helper()
	out, err := e.aas.RegisterScalableTarget(opsCtx, aasTarget(service, aws.Int32(lo), aws.Int32(hi)))
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ScalableTargetARN)
}

// aasCPUPolicy is a target-tracking policy on average CPU for an ECS service of cluster prod.
func aasCPUPolicy(service, name string, target float64) *aas.PutScalingPolicyInput {
	return &aas.PutScalingPolicyInput{
		ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
		ResourceId: aws.String("service/prod/" + service), PolicyName: aws.String(name),
		PolicyType: aatypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aatypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(target),
			PredefinedMetricSpecification: &aatypes.PredefinedMetricSpecification{
				PredefinedMetricType: aatypes.MetricTypeECSServiceAverageCPUUtilization,
			},
			ScaleInCooldown: aws.Int32(60), ScaleOutCooldown: aws.Int32(30),
		},
	}
}

func (e *env) aasPut(t *testing.T, in *aas.PutScalingPolicyInput) *aas.PutScalingPolicyOutput {
	t.Helper()
	out, err := e.aas.PutScalingPolicy(opsCtx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) aasTargets(t *testing.T, ids ...string) []aatypes.ScalableTarget {
	t.Helper()
	out, err := e.aas.DescribeScalableTargets(opsCtx, &aas.DescribeScalableTargetsInput{
		ServiceNamespace: aatypes.ServiceNamespaceEcs, ResourceIds: ids,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.ScalableTargets
}

// aasPolicyNames returns "resource/policy" of every ECS scaling policy.
func (e *env) aasPolicyNames(t *testing.T) []string {
	t.Helper()
	in := &aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs}
	var names []string
	p := aas.NewDescribeScalingPoliciesPaginator(e.aas, in)
	for p.HasMorePages() {
		page, err := p.NextPage(opsCtx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range page.ScalingPolicies {
			names = append(names, *sp.ResourceId+"/"+*sp.PolicyName)
		}
	}
	return names
}

// aasEnv has cluster prod with web__1 (2 tasks), api__1 (1 task) and worker__1 (0 tasks).
func aasEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	e.createService(t, "web__1", "web:1", 2)
	e.createService(t, "api__1", "web:1", 1)
	e.createService(t, "worker__1", "web:1", 0)
	e.clock.Advance(time.Second)
	return e
}

func TestAutoScaling_RegisterScalableTarget(t *testing.T) {
	t.Run("a first registration returns the target's ARN and is described with its range", func(t *testing.T) {
		e := aasEnv(t)
		arn := e.aasRegister(t, "web__1", 1, 4)
		if !aasTargetArnFormat.MatchString(arn) {
			t.Fatalf("ScalableTargetARN %s", arn)
		}
		got := e.aasTargets(t)
		if len(got) != 1 {
			t.Fatalf("%d targets", len(got))
		}
		tg := got[0]
		if *tg.ResourceId != "service/prod/web__1" || tg.ServiceNamespace != aatypes.ServiceNamespaceEcs ||
			tg.ScalableDimension != aatypes.ScalableDimensionECSServiceDesiredCount ||
			*tg.MinCapacity != 1 || *tg.MaxCapacity != 4 || *tg.ScalableTargetARN != arn {
			t.Fatalf("target %s %s %s %d..%d %s", *tg.ResourceId, tg.ServiceNamespace, tg.ScalableDimension,
				*tg.MinCapacity, *tg.MaxCapacity, *tg.ScalableTargetARN)
		}
		if !strings.HasSuffix(*tg.RoleARN, ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService") {
			t.Errorf("RoleARN %s", *tg.RoleARN)
		}
		if tg.CreationTime == nil || !tg.CreationTime.Equal(e.clock.Now()) {
			t.Errorf("CreationTime %v, want %v", tg.CreationTime, e.clock.Now())
		}
	})

	for _, tc := range []struct {
		name          string
		min, max      int32
		desired       int32 // after registration
		runningBefore int32
	}{
		{"registering a range above the desired count raises it to the minimum", 3, 5, 3, 2},
		{"registering a range below the desired count lowers it to the maximum", 0, 1, 1, 2},
		{"registering a range that holds the desired count keeps it", 1, 10, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := aasEnv(t)
			e.aasRegister(t, "web__1", tc.min, tc.max)
			// The count moves through a scaling activity that completes after aasClampDelay.
			if got := e.describe(t, "web__1"); got.DesiredCount != tc.runningBefore {
				t.Fatalf("desired count %d right after registering [%d,%d], want %d still", got.DesiredCount, tc.min, tc.max, tc.runningBefore)
			}
			e.clock.Advance(aasClampDelay - time.Millisecond)
			if got := e.describe(t, "web__1"); got.DesiredCount != tc.runningBefore {
				t.Fatalf("desired count %d just before the activity completes, want %d", got.DesiredCount, tc.runningBefore)
			}
			e.clock.Advance(time.Millisecond)
			if got := e.describe(t, "web__1"); got.DesiredCount != tc.desired {
				t.Fatalf("desired count %d after registering [%d,%d] and the activity, want %d", got.DesiredCount, tc.min, tc.max, tc.desired)
			}
			e.clock.Advance(2 * time.Second)
			opsWantCounts(t, e.describe(t, "web__1"), tc.desired, tc.desired, 0)
		})
	}

	t.Run("re-registering changes only the given fields and keeps the ARN", func(t *testing.T) {
		e := aasEnv(t)
		arn := e.aasRegister(t, "web__1", 1, 4)

		out, err := e.aas.RegisterScalableTarget(opsCtx, aasTarget("web__1", nil, aws.Int32(6)))
		if err != nil {
			t.Fatal(err)
		}
		if *out.ScalableTargetARN != arn {
			t.Fatalf("ARN changed from %s to %s", arn, *out.ScalableTargetARN)
		}
		tg := e.aasTargets(t)[0]
		if *tg.MinCapacity != 1 || *tg.MaxCapacity != 6 {
			t.Fatalf("after updating max: %d..%d, want 1..6", *tg.MinCapacity, *tg.MaxCapacity)
		}

		in := aasTarget("web__1", nil, nil)
		in.SuspendedState = &aatypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(true)}
		if _, err := e.aas.RegisterScalableTarget(opsCtx, in); err != nil {
			t.Fatal(err)
		}
		tg = e.aasTargets(t)[0]
		if *tg.MinCapacity != 1 || *tg.MaxCapacity != 6 || tg.SuspendedState == nil || !aws.ToBool(tg.SuspendedState.DynamicScalingInSuspended) {
			t.Fatalf("after suspending: %d..%d suspended %+v", *tg.MinCapacity, *tg.MaxCapacity, tg.SuspendedState)
		}

		// Raising only the minimum moves the desired count up, once the activity completes.
		if _, err := e.aas.RegisterScalableTarget(opsCtx, aasTarget("web__1", aws.Int32(5), nil)); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(aasClampDelay)
		if got := e.describe(t, "web__1"); got.DesiredCount != 5 {
			t.Fatalf("desired %d after raising the minimum to 5", got.DesiredCount)
		}

		// A minimum above the existing maximum is refused and changes nothing.
		_, err = e.aas.RegisterScalableTarget(opsCtx, aasTarget("web__1", aws.Int32(7), nil))
		opsIs[*aatypes.ValidationException](t, err, "")
		tg = e.aasTargets(t)[0]
		if *tg.MinCapacity != 5 || *tg.MaxCapacity != 6 {
			t.Fatalf("after a refused update: %d..%d, want 5..6", *tg.MinCapacity, *tg.MaxCapacity)
		}
	})

	t.Run("tags on a re-registration are a ValidationException", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		in := aasTarget("web__1", nil, nil)
		in.Tags = map[string]string{"team": "payments"}
		_, err := e.aas.RegisterScalableTarget(opsCtx, in)
		opsIs[*aatypes.ValidationException](t, err, "The scalable target that you tried to tag already exists. To update tags on an existing scalable target, use the TagResource API.")
	})

	for _, tc := range []struct {
		name  string
		in    *aas.RegisterScalableTargetInput
		check opsErrCheck
	}{
		{"an unknown service is a ValidationException",
			aasTarget("nope", aws.Int32(1), aws.Int32(2)),
			opsWant[*aatypes.ValidationException]("ECS service doesn't exist: service/prod/nope")},
		{"a DRAINING service is a ValidationException",
			aasTarget("draining__1", aws.Int32(1), aws.Int32(2)),
			opsWant[*aatypes.ValidationException]("ECS service doesn't exist: service/prod/draining__1")},
		{"an INACTIVE service is a ValidationException",
			aasTarget("worker__1", aws.Int32(1), aws.Int32(2)),
			opsWant[*aatypes.ValidationException]("ECS service doesn't exist: service/prod/worker__1")},
		{"a service of an unknown cluster is a ValidationException",
			&aas.RegisterScalableTargetInput{
				ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
				ResourceId: aws.String("service/staging/web__1"), MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2),
			},
			opsWant[*aatypes.ValidationException]("ECS service doesn't exist: service/staging/web__1")},
		{"a first registration without MinCapacity is a ValidationException",
			aasTarget("web__1", nil, aws.Int32(2)),
			opsWant[*aatypes.ValidationException]("")},
		{"a first registration without MaxCapacity is a ValidationException",
			aasTarget("web__1", aws.Int32(1), nil),
			opsWant[*aatypes.ValidationException]("")},
		{"a minimum above the maximum is a ValidationException",
			aasTarget("web__1", aws.Int32(5), aws.Int32(2)),
			opsWant[*aatypes.ValidationException]("")},
		{"a negative minimum is a ValidationException",
			aasTarget("web__1", aws.Int32(-1), aws.Int32(2)),
			opsWant[*aatypes.ValidationException]("")},
		{"a dimension of another namespace is a ValidationException",
			&aas.RegisterScalableTargetInput{
				ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionDynamoDBTableReadCapacityUnits,
				ResourceId: aws.String("service/prod/web__1"), MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2),
			},
			opsWant[*aatypes.ValidationException](aasUnsupported)},
		{"a resource ID that is not a service is a ValidationException",
			&aas.RegisterScalableTargetInput{
				ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
				ResourceId: aws.String("cluster/prod"), MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2),
			},
			opsWant[*aatypes.ValidationException](aasUnsupported)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := aasEnv(t)
			e.createService(t, "draining__1", "web:1", 1)
			e.clock.Advance(time.Second)
			e.opsDelete(t, "draining__1", true)
			e.opsDelete(t, "worker__1", false)
			_, err := e.aas.RegisterScalableTarget(opsCtx, tc.in)
			tc.check(t, err)
			if got := e.aasTargets(t); len(got) != 0 {
				t.Fatalf("a refused registration left %d targets", len(got))
			}
			if got := e.describe(t, "web__1"); got.DesiredCount != 2 {
				t.Fatalf("a refused registration changed web__1's desired count to %d", got.DesiredCount)
			}
		})
	}
}

func TestAutoScaling_DescribeScalableTargets(t *testing.T) {
	e := aasEnv(t)
	for _, s := range []string{"web__1", "api__1", "worker__1"} {
		e.aasRegister(t, s, 0, 5)
	}

	for _, tc := range []struct {
		name string
		in   aas.DescribeScalableTargetsInput
		ids  []string
		next bool
	}{
		{"every ECS target is described, sorted by resource ID",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs},
			[]string{"service/prod/api__1", "service/prod/web__1", "service/prod/worker__1"}, false},
		{"ResourceIds filters the targets",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs,
				ResourceIds: []string{"service/prod/web__1", "service/prod/worker__1", "service/prod/nope"}},
			[]string{"service/prod/web__1", "service/prod/worker__1"}, false},
		{"ResourceIds with the scalable dimension filters the targets",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs,
				ResourceIds: []string{"service/prod/api__1"}, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount},
			[]string{"service/prod/api__1"}, false},
		{"MaxResults limits a page and returns a NextToken",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(2)},
			[]string{"service/prod/api__1", "service/prod/web__1"}, true},
		{"MaxResults 50 is allowed",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(50)},
			[]string{"service/prod/api__1", "service/prod/web__1", "service/prod/worker__1"}, false},
		{"another namespace has no targets",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceDynamodb},
			nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.aas.DescribeScalableTargets(opsCtx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tg := range out.ScalableTargets {
				ids = append(ids, *tg.ResourceId)
			}
			if !slices.Equal(ids, tc.ids) || (out.NextToken != nil) != tc.next {
				t.Fatalf("targets %v nextToken %v, want %v and another page %v", ids, out.NextToken, tc.ids, tc.next)
			}
		})
	}

	t.Run("the paginator walks every target in pages of MaxResults", func(t *testing.T) {
		p := aas.NewDescribeScalableTargetsPaginator(e.aas,
			&aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs},
			func(o *aas.DescribeScalableTargetsPaginatorOptions) { o.Limit = 2 })
		var ids []string
		var sizes []int
		for p.HasMorePages() {
			page, err := p.NextPage(opsCtx)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(page.ScalableTargets))
			for _, tg := range page.ScalableTargets {
				ids = append(ids, *tg.ResourceId)
			}
		}
		if !slices.Equal(sizes, []int{2, 1}) || len(ids) != 3 || ids[2] != "service/prod/worker__1" {
			t.Fatalf("pages of %v: %v", sizes, ids)
		}
	})

	t.Run("the SDK requires ServiceNamespace before sending", func(t *testing.T) {
		_, err := e.aas.DescribeScalableTargets(opsCtx, &aas.DescribeScalableTargetsInput{})
		var invalid smithy.InvalidParamsError
		if !errors.As(err, &invalid) {
			t.Fatalf("got %v (%T), want smithy.InvalidParamsError", err, err)
		}
	})

	t.Run("a request without ServiceNamespace is a ValidationException on the wire", func(t *testing.T) {
		status, hdr, body := ctlAWS(t, e, "AnyScaleFrontendService.DescribeScalableTargets", `{}`)
		if status != http.StatusBadRequest || hdr.Get("X-Amzn-ErrorType") != "ValidationException" || body["__type"] != "ValidationException" {
			t.Fatalf("status %d error type %q body %v", status, hdr.Get("X-Amzn-ErrorType"), body)
		}
		// Application Auto Scaling spells the member Message.
		if msg, _ := body["Message"].(string); !strings.Contains(msg, "serviceNamespace") {
			t.Fatalf("body %v", body)
		}
	})

	for _, tc := range []struct {
		name  string
		in    aas.DescribeScalableTargetsInput
		check opsErrCheck
	}{
		{"MaxResults 51 is a ValidationException",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(51)},
			opsWant[*aatypes.ValidationException]("")},
		{"MaxResults 0 is a ValidationException",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(0)},
			opsWant[*aatypes.ValidationException]("")},
		{"a scalable dimension without resource IDs is a ValidationException",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs,
				ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount},
			opsWant[*aatypes.ValidationException]("")},
		{"an invalid NextToken is an InvalidNextTokenException",
			aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, NextToken: aws.String("bogus")},
			opsWant[*aatypes.InvalidNextTokenException]("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.aas.DescribeScalableTargets(opsCtx, &tc.in)
			tc.check(t, err)
		})
	}
}

func TestAutoScaling_PutScalingPolicy(t *testing.T) {
	t.Run("a target tracking policy gets a scalingPolicy ARN and two CloudWatch alarms", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		out := e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 60))
		arnFormat := regexp.MustCompile(`^arn:aws:autoscaling:eu-west-1:000000000000:scalingPolicy:` + aasUUID +
			`:resource/ecs/service/prod/web__1:policyName/cpu60$`)
		if !arnFormat.MatchString(*out.PolicyARN) {
			t.Fatalf("PolicyARN %s", *out.PolicyARN)
		}
		if len(out.Alarms) != 2 {
			t.Fatalf("%d alarms", len(out.Alarms))
		}
		for i, kind := range []string{"AlarmHigh", "AlarmLow"} {
			name := regexp.MustCompile(`^TargetTracking-service/prod/web__1-` + kind + `-` + aasUUID + `$`)
			a := out.Alarms[i]
			if !name.MatchString(*a.AlarmName) || *a.AlarmARN != "arn:aws:cloudwatch:eu-west-1:000000000000:alarm:"+*a.AlarmName {
				t.Errorf("alarm %d: %s %s", i, *a.AlarmName, *a.AlarmARN)
			}
		}
	})

	t.Run("putting a policy again updates it and keeps its ARN and alarms", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		first := e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 60))
		again := e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 75))
		if *again.PolicyARN != *first.PolicyARN || len(again.Alarms) != 2 || *again.Alarms[0].AlarmName != *first.Alarms[0].AlarmName {
			t.Fatalf("first %s %+v, again %s %+v", *first.PolicyARN, first.Alarms, *again.PolicyARN, again.Alarms)
		}
		out, err := e.aas.DescribeScalingPolicies(opsCtx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ScalingPolicies) != 1 || *out.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.TargetValue != 75 {
			t.Fatalf("policies after the update: %+v", out.ScalingPolicies)
		}
	})

	t.Run("a step scaling policy has no alarms of its own", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		out := e.aasPut(t, &aas.PutScalingPolicyInput{
			ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
			ResourceId: aws.String("service/prod/web__1"), PolicyName: aws.String("step"), PolicyType: aatypes.PolicyTypeStepScaling,
			StepScalingPolicyConfiguration: &aatypes.StepScalingPolicyConfiguration{
				AdjustmentType: aatypes.AdjustmentTypeChangeInCapacity, Cooldown: aws.Int32(60),
				StepAdjustments: []aatypes.StepAdjustment{{ScalingAdjustment: aws.Int32(1), MetricIntervalLowerBound: aws.Float64(0)}},
			},
		})
		if len(out.Alarms) != 0 || !strings.HasSuffix(*out.PolicyARN, ":resource/ecs/service/prod/web__1:policyName/step") {
			t.Fatalf("PolicyARN %s alarms %+v", *out.PolicyARN, out.Alarms)
		}
	})

	t.Run("a high-resolution CPU metric is accepted for an ECS service", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		in := aasCPUPolicy("web__1", "cpu-hr", 60)
		in.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType = aatypes.MetricTypeECSServiceAverageCPUUtilizationHighResolution
		e.aasPut(t, in)
	})

	t.Run("a target tracking policy without a target value is refused by the SDK and on the wire", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		in := aasCPUPolicy("web__1", "cpu60", 60)
		in.TargetTrackingScalingPolicyConfiguration.TargetValue = nil
		_, err := e.aas.PutScalingPolicy(opsCtx, in)
		var invalid smithy.InvalidParamsError
		if !errors.As(err, &invalid) {
			t.Fatalf("got %v (%T), want smithy.InvalidParamsError", err, err)
		}
		status, _, body := ctlAWS(t, e, "AnyScaleFrontendService.PutScalingPolicy", `{
			"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", "ResourceId": "service/prod/web__1",
			"PolicyName": "cpu60", "PolicyType": "TargetTrackingScaling",
			"TargetTrackingScalingPolicyConfiguration": {"PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}`)
		if status != http.StatusBadRequest || body["__type"] != "ValidationException" {
			t.Fatalf("%d %v", status, body)
		}
		if got := e.aasPolicyNames(t); len(got) != 0 {
			t.Fatalf("a refused PutScalingPolicy stored %v", got)
		}
	})

	noTarget := aasCPUPolicy("web__1", "cpu60", 60)
	noMetric := aasCPUPolicy("web__1", "cpu60", 60)
	noMetric.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification = nil
	badMetric := aasCPUPolicy("web__1", "cpu60", 60)
	badMetric.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType = aatypes.MetricTypeDynamoDBReadCapacityUtilization
	badName := aasCPUPolicy("web__1", "cpu:60", 60)
	noStepConfig := aasCPUPolicy("web__1", "step", 60)
	noStepConfig.PolicyType = aatypes.PolicyTypeStepScaling
	noStepConfig.TargetTrackingScalingPolicyConfiguration = nil
	for _, tc := range []struct {
		name     string
		register bool
		in       *aas.PutScalingPolicyInput
		check    opsErrCheck
	}{
		{"a policy without a scalable target is an ObjectNotFoundException", false, noTarget,
			opsWant[*aatypes.ObjectNotFoundException](fmt.Sprintf(aasNotRegistered, "service/prod/web__1"))},
		{"a target tracking policy without a metric is a ValidationException", true, noMetric,
			opsWant[*aatypes.ValidationException]("")},
		{"a metric of another service is a ValidationException", true, badMetric,
			opsWant[*aatypes.ValidationException]("")},
		{"a policy name with a colon is a ValidationException", true, badName,
			opsWant[*aatypes.ValidationException]("")},
		{"a step scaling policy without its configuration is a ValidationException", true, noStepConfig,
			opsWant[*aatypes.ValidationException]("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := aasEnv(t)
			if tc.register {
				e.aasRegister(t, "web__1", 1, 4)
			}
			_, err := e.aas.PutScalingPolicy(opsCtx, tc.in)
			tc.check(t, err)
			if got := e.aasPolicyNames(t); len(got) != 0 {
				t.Fatalf("a refused PutScalingPolicy stored %v", got)
			}
		})
	}
}

func TestAutoScaling_DescribeScalingPolicies(t *testing.T) {
	e := aasEnv(t)
	e.aasRegister(t, "web__1", 1, 4)
	e.aasRegister(t, "api__1", 1, 4)
	put := e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 60))
	e.aasPut(t, aasCPUPolicy("web__1", "cpu80", 80))
	e.aasPut(t, aasCPUPolicy("api__1", "cpu60", 60))

	t.Run("a policy is described with its type, configuration and alarms", func(t *testing.T) {
		out, err := e.aas.DescribeScalingPolicies(opsCtx, &aas.DescribeScalingPoliciesInput{
			ServiceNamespace: aatypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
			ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount, PolicyNames: []string{"cpu60"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ScalingPolicies) != 1 {
			t.Fatalf("%d policies", len(out.ScalingPolicies))
		}
		p := out.ScalingPolicies[0]
		if *p.PolicyARN != *put.PolicyARN || *p.PolicyName != "cpu60" || p.PolicyType != aatypes.PolicyTypeTargetTrackingScaling ||
			*p.ResourceId != "service/prod/web__1" || p.ServiceNamespace != aatypes.ServiceNamespaceEcs ||
			p.ScalableDimension != aatypes.ScalableDimensionECSServiceDesiredCount || p.CreationTime == nil {
			t.Fatalf("policy %+v", p)
		}
		tt := p.TargetTrackingScalingPolicyConfiguration
		if tt == nil || *tt.TargetValue != 60 || tt.PredefinedMetricSpecification.PredefinedMetricType != aatypes.MetricTypeECSServiceAverageCPUUtilization ||
			*tt.ScaleInCooldown != 60 || *tt.ScaleOutCooldown != 30 {
			t.Fatalf("configuration %+v", tt)
		}
		if len(p.Alarms) != 2 || *p.Alarms[0].AlarmARN != *put.Alarms[0].AlarmARN {
			t.Fatalf("alarms %+v, want %+v", p.Alarms, put.Alarms)
		}
	})

	for _, tc := range []struct {
		name  string
		in    aas.DescribeScalingPoliciesInput
		names []string // resource/policy
		next  bool
	}{
		{"every ECS policy is described",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs},
			[]string{"service/prod/api__1/cpu60", "service/prod/web__1/cpu60", "service/prod/web__1/cpu80"}, false},
		{"ResourceId filters by service",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1")},
			[]string{"service/prod/web__1/cpu60", "service/prod/web__1/cpu80"}, false},
		{"PolicyNames filters by name",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, PolicyNames: []string{"cpu60"}},
			[]string{"service/prod/api__1/cpu60", "service/prod/web__1/cpu60"}, false},
		{"MaxResults limits a page and returns a NextToken",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(1)},
			[]string{"service/prod/api__1/cpu60"}, true},
		{"MaxResults 10 is allowed",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(10)},
			[]string{"service/prod/api__1/cpu60", "service/prod/web__1/cpu60", "service/prod/web__1/cpu80"}, false},
		{"an unknown resource has no policies",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/nope")},
			nil, false},
		{"another namespace has no policies",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceDynamodb},
			nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.aas.DescribeScalingPolicies(opsCtx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range out.ScalingPolicies {
				names = append(names, *p.ResourceId+"/"+*p.PolicyName)
			}
			if !slices.Equal(names, tc.names) || (out.NextToken != nil) != tc.next {
				t.Fatalf("policies %v nextToken %v, want %v and another page %v", names, out.NextToken, tc.names, tc.next)
			}
		})
	}

	t.Run("the paginator walks every policy", func(t *testing.T) {
		p := aas.NewDescribeScalingPoliciesPaginator(e.aas,
			&aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs},
			func(o *aas.DescribeScalingPoliciesPaginatorOptions) { o.Limit = 2 })
		var sizes []int
		for p.HasMorePages() {
			page, err := p.NextPage(opsCtx)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(page.ScalingPolicies))
		}
		if !slices.Equal(sizes, []int{2, 1}) {
			t.Fatalf("pages of %v", sizes)
		}
	})

	for _, tc := range []struct {
		name  string
		in    aas.DescribeScalingPoliciesInput
		check opsErrCheck
	}{
		{"MaxResults 11 is a ValidationException",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(11)},
			opsWant[*aatypes.ValidationException]("")},
		{"an invalid NextToken is an InvalidNextTokenException",
			aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, NextToken: aws.String("bogus")},
			opsWant[*aatypes.InvalidNextTokenException]("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.aas.DescribeScalingPolicies(opsCtx, &tc.in)
			tc.check(t, err)
		})
	}
}

func TestAutoScaling_DeleteScalingPolicy(t *testing.T) {
	e := aasEnv(t)
	e.aasRegister(t, "web__1", 1, 4)
	e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 60))
	e.aasPut(t, aasCPUPolicy("web__1", "cpu80", 80))
	del := func(name string) error {
		_, err := e.aas.DeleteScalingPolicy(opsCtx, &aas.DeleteScalingPolicyInput{
			ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
			ResourceId: aws.String("service/prod/web__1"), PolicyName: aws.String(name),
		})
		return err
	}

	t.Run("a deleted policy is gone and the others stay", func(t *testing.T) {
		if err := del("cpu60"); err != nil {
			t.Fatal(err)
		}
		if got := e.aasPolicyNames(t); !slices.Equal(got, []string{"service/prod/web__1/cpu80"}) {
			t.Fatalf("policies %v", got)
		}
		if got := e.aasTargets(t); len(got) != 1 {
			t.Fatalf("the target went with the policy: %d targets", len(got))
		}
	})

	t.Run("deleting a missing policy is an ObjectNotFoundException", func(t *testing.T) {
		opsIs[*aatypes.ObjectNotFoundException](t, del("cpu60"), "")
		opsIs[*aatypes.ObjectNotFoundException](t, del("never"), "")
	})
}

func TestAutoScaling_DeregisterScalableTarget(t *testing.T) {
	dereg := func(e *env, service string) error {
		_, err := e.aas.DeregisterScalableTarget(opsCtx, &aas.DeregisterScalableTargetInput{
			ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
			ResourceId: aws.String("service/prod/" + service),
		})
		return err
	}

	t.Run("deregistering a target removes it and its policies and keeps the desired count", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 3, 6)
		e.aasRegister(t, "api__1", 1, 2)
		e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 60))
		e.aasPut(t, aasCPUPolicy("api__1", "cpu60", 60))
		e.clock.Advance(aasClampDelay)
		if err := dereg(e, "web__1"); err != nil {
			t.Fatal(err)
		}
		if got := e.aasTargets(t, "service/prod/web__1"); len(got) != 0 {
			t.Fatalf("target still described: %+v", got)
		}
		if got := e.aasPolicyNames(t); !slices.Equal(got, []string{"service/prod/api__1/cpu60"}) {
			t.Fatalf("policies %v", got)
		}
		if got := e.describe(t, "web__1"); got.DesiredCount != 3 {
			t.Fatalf("desired %d, want 3", got.DesiredCount)
		}
		// Policies now need a target again.
		_, err := e.aas.PutScalingPolicy(opsCtx, aasCPUPolicy("web__1", "cpu60", 60))
		opsIs[*aatypes.ObjectNotFoundException](t, err, fmt.Sprintf(aasNotRegistered, "service/prod/web__1"))
	})

	t.Run("deregistering a missing target is an ObjectNotFoundException", func(t *testing.T) {
		e := aasEnv(t)
		got := opsAs[*aatypes.ObjectNotFoundException](t, dereg(e, "web__1"), "")
		if !strings.Contains(got.ErrorMessage(), "service/prod/web__1") {
			t.Fatalf("message %q does not name the resource", got.ErrorMessage())
		}
		opsIs[*aatypes.ObjectNotFoundException](t, dereg(e, "nope"), "")
	})

	t.Run("deleting the ECS service deregisters its target and policies", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 60))
		e.opsDelete(t, "web__1", true)
		if got := e.aasTargets(t); len(got) != 0 {
			t.Fatalf("targets after DeleteService: %+v", got)
		}
		if got := e.aasPolicyNames(t); len(got) != 0 {
			t.Fatalf("policies after DeleteService: %v", got)
		}
		opsIs[*aatypes.ObjectNotFoundException](t, dereg(e, "web__1"), "")
	})
}

func TestAutoScaling_AutoScale(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ask     int
		desired int
	}{
		{"a count within the range is applied", 3, 3},
		{"a count above the maximum is clamped to it", 10, 4},
		{"a count below the minimum is clamped to it", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := aasEnv(t)
			e.aasRegister(t, "web__1", 1, 4)
			got, err := e.srv.AutoScale("prod", "web__1", tc.ask)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.desired {
				t.Fatalf("AutoScale(%d) = %d, want %d", tc.ask, got, tc.desired)
			}
			if svc := e.describe(t, "web__1"); int(svc.DesiredCount) != tc.desired {
				t.Fatalf("desired count %d, want %d", svc.DesiredCount, tc.desired)
			}
			e.clock.Advance(2 * time.Second)
			opsWantCounts(t, e.describe(t, "web__1"), int32(tc.desired), int32(tc.desired), 0)
		})
	}

	t.Run("a service without a scalable target cannot be auto scaled", func(t *testing.T) {
		e := aasEnv(t)
		if _, err := e.srv.AutoScale("prod", "web__1", 3); err == nil {
			t.Fatal("AutoScale without a target succeeded")
		}
		if got := e.describe(t, "web__1"); got.DesiredCount != 2 {
			t.Fatalf("desired %d", got.DesiredCount)
		}
	})

	t.Run("a suspended direction is refused", func(t *testing.T) {
		e := aasEnv(t)
		in := aasTarget("web__1", aws.Int32(1), aws.Int32(4))
		in.SuspendedState = &aatypes.SuspendedState{DynamicScalingOutSuspended: aws.Bool(true)}
		if _, err := e.aas.RegisterScalableTarget(opsCtx, in); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.AutoScale("prod", "web__1", 4); err == nil {
			t.Fatal("scaling out while scale-out is suspended succeeded")
		}
		if n, err := e.srv.AutoScale("prod", "web__1", 1); err != nil || n != 1 {
			t.Fatalf("scaling in: %d, %v", n, err)
		}
	})

	t.Run("a deleted service's target is gone, so it cannot be auto scaled", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		if _, err := e.ecs.DeleteService(opsCtx, &ecs.DeleteServiceInput{
			Cluster: aws.String("prod"), Service: aws.String("web__1"), Force: aws.Bool(true),
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.AutoScale("prod", "web__1", 3); err == nil {
			t.Fatal("AutoScale of a deleted service succeeded")
		}
	})
}

// aasRaw posts an Application Auto Scaling operation as raw JSON 1.1 (for inputs the SDK
// refuses to send) and returns the HTTP status and body.
func (e *env) aasRaw(t *testing.T, op, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AnyScaleFrontendService."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestAutoScaling_PredictiveScaling(t *testing.T) {
	predictive := func(name string) *aas.PutScalingPolicyInput {
		return &aas.PutScalingPolicyInput{
			ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
			ResourceId: aws.String("service/prod/web__1"), PolicyName: aws.String(name),
			PolicyType: aatypes.PolicyTypePredictiveScaling,
			PredictiveScalingPolicyConfiguration: &aatypes.PredictiveScalingPolicyConfiguration{
				MetricSpecifications: []aatypes.PredictiveScalingMetricSpecification{{
					TargetValue: aws.Float64(40),
					PredefinedMetricPairSpecification: &aatypes.PredictiveScalingPredefinedMetricPairSpecification{
						PredefinedMetricType: aws.String("ECSServiceMemoryUtilization"),
					},
				}},
				SchedulingBufferTime: aws.Int32(3600), MaxCapacityBreachBehavior: aatypes.PredictiveScalingMaxCapacityBreachBehaviorHonorMaxCapacity,
				Mode: aatypes.PredictiveScalingModeForecastOnly,
			},
		}
	}

	t.Run("a predictive policy is stored and described as given, without alarms", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		in := predictive("forecast")
		out := e.aasPut(t, in)
		if !strings.HasSuffix(aws.ToString(out.PolicyARN), ":resource/ecs/service/prod/web__1:policyName/forecast") || len(out.Alarms) != 0 {
			t.Fatalf("put: %s %+v", aws.ToString(out.PolicyARN), out.Alarms)
		}
		got, err := e.aas.DescribeScalingPolicies(opsCtx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.ScalingPolicies) != 1 {
			t.Fatalf("%d policies", len(got.ScalingPolicies))
		}
		p := got.ScalingPolicies[0]
		cfg := p.PredictiveScalingPolicyConfiguration
		if p.PolicyType != aatypes.PolicyTypePredictiveScaling || cfg == nil || p.TargetTrackingScalingPolicyConfiguration != nil ||
			len(cfg.MetricSpecifications) != 1 || aws.ToFloat64(cfg.MetricSpecifications[0].TargetValue) != 40 ||
			cfg.MetricSpecifications[0].PredefinedMetricPairSpecification == nil ||
			aws.ToString(cfg.MetricSpecifications[0].PredefinedMetricPairSpecification.PredefinedMetricType) != "ECSServiceMemoryUtilization" ||
			aws.ToInt32(cfg.SchedulingBufferTime) != 3600 || cfg.Mode != aatypes.PredictiveScalingModeForecastOnly ||
			cfg.MaxCapacityBreachBehavior != aatypes.PredictiveScalingMaxCapacityBreachBehaviorHonorMaxCapacity || len(p.Alarms) != 0 {
			t.Fatalf("policy %+v config %+v", p, cfg)
		}
	})

	t.Run("a predictive policy needs a registered target", func(t *testing.T) {
		e := aasEnv(t)
		_, err := e.aas.PutScalingPolicy(opsCtx, predictive("forecast"))
		opsIs[*aatypes.ObjectNotFoundException](t, err, fmt.Sprintf(aasNotRegistered, "service/prod/web__1"))
	})

	const key = `"ServiceNamespace":"ecs","ScalableDimension":"ecs:service:DesiredCount","ResourceId":"service/prod/web__1","PolicyName":"p","PolicyType":"PredictiveScaling"`
	spec := `{"TargetValue":40,"PredefinedMetricPairSpecification":{"PredefinedMetricType":"ECSServiceCPUUtilization"}}`
	for _, tc := range []struct{ name, body string }{
		{"without a configuration", `{` + key + `}`},
		{"without metric specifications", `{` + key + `,"PredictiveScalingPolicyConfiguration":{}}`},
		{"with an empty list of metric specifications", `{` + key + `,"PredictiveScalingPolicyConfiguration":{"MetricSpecifications":[]}}`},
		{"with two metric specifications", `{` + key + `,"PredictiveScalingPolicyConfiguration":{"MetricSpecifications":[` + spec + `,` + spec + `]}}`},
		{"with a metric specification without a target value", `{` + key + `,"PredictiveScalingPolicyConfiguration":{"MetricSpecifications":[{"PredefinedMetricPairSpecification":{"PredefinedMetricType":"ECSServiceCPUUtilization"}}]}}`},
		{"with an unknown mode", `{` + key + `,"PredictiveScalingPolicyConfiguration":{"MetricSpecifications":[` + spec + `],"Mode":"Sometimes"}}`},
		{"with an unknown breach behaviour", `{` + key + `,"PredictiveScalingPolicyConfiguration":{"MetricSpecifications":[` + spec + `],"MaxCapacityBreachBehavior":"Ignore"}}`},
	} {
		t.Run("a predictive policy "+tc.name+" is a ValidationException", func(t *testing.T) {
			e := aasEnv(t)
			e.aasRegister(t, "web__1", 1, 4)
			status, body := e.aasRaw(t, "PutScalingPolicy", tc.body)
			if status != http.StatusBadRequest || !strings.Contains(body, "ValidationException") {
				t.Fatalf("%d %s", status, body)
			}
			if got := e.aasPolicyNames(t); len(got) != 0 {
				t.Fatalf("policies %v", got)
			}
		})
	}
}

func TestAutoScaling_SuspendedState(t *testing.T) {
	suspended := func(e *env) aatypes.SuspendedState {
		t.Helper()
		tg := e.aasTargets(t, "service/prod/web__1")
		if len(tg) != 1 || tg[0].SuspendedState == nil {
			t.Fatalf("targets %+v", tg)
		}
		return *tg[0].SuspendedState
	}
	want := func(t *testing.T, got aatypes.SuspendedState, in, out, sched bool) {
		t.Helper()
		if got.DynamicScalingInSuspended == nil || got.DynamicScalingOutSuspended == nil || got.ScheduledScalingSuspended == nil ||
			*got.DynamicScalingInSuspended != in || *got.DynamicScalingOutSuspended != out || *got.ScheduledScalingSuspended != sched {
			t.Fatalf("SuspendedState %v %v %v, want %v %v %v", aws.ToBool(got.DynamicScalingInSuspended),
				aws.ToBool(got.DynamicScalingOutSuspended), aws.ToBool(got.ScheduledScalingSuspended), in, out, sched)
		}
	}
	register := func(t *testing.T, e *env, st *aatypes.SuspendedState) {
		t.Helper()
		in := aasTarget("web__1", nil, nil)
		in.SuspendedState = st
		if _, err := e.aas.RegisterScalableTarget(opsCtx, in); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("every member is described, false by default", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		want(t, suspended(e), false, false, false)
	})

	t.Run("a SuspendedState given replaces the target's: omitted members are false; an omitted SuspendedState keeps it", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		register(t, e, &aatypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(true), ScheduledScalingSuspended: aws.Bool(true)})
		want(t, suspended(e), true, false, true)
		register(t, e, nil)
		want(t, suspended(e), true, false, true)
		register(t, e, &aatypes.SuspendedState{DynamicScalingOutSuspended: aws.Bool(true)})
		want(t, suspended(e), false, true, false)
	})

	t.Run("AutoScale refuses a suspended scale-in and allows a scale-out", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		register(t, e, &aatypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(true)})
		if _, err := e.srv.AutoScale("prod", "web__1", 1); err == nil {
			t.Fatal("scaling in while scale-in is suspended succeeded")
		}
		if got := e.describe(t, "web__1").DesiredCount; got != 2 {
			t.Fatalf("desired %d after a refused scale-in", got)
		}
		if n, err := e.srv.AutoScale("prod", "web__1", 3); err != nil || n != 3 {
			t.Fatalf("scaling out: %d, %v", n, err)
		}
		// Resumed, it scales in.
		register(t, e, &aatypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(false)})
		if n, err := e.srv.AutoScale("prod", "web__1", 1); err != nil || n != 1 {
			t.Fatalf("scaling in after resuming: %d, %v", n, err)
		}
	})
}

func TestWire_ScheduledActionsNoNullMembers(t *testing.T) {
	e := aasEnv(t)
	e.aasRegister(t, "web__1", 3, 4) // an activity in progress: no EndTime, no StatusMessage
	e.aasSchedule(t, aasScheduled("web__1", "a", "rate(1 hour)", aws.Int32(2), nil))
	for _, op := range []string{"DescribeScheduledActions", "DescribeScalingActivities", "DescribeScalableTargets"} {
		if status, body := e.aasRaw(t, op, `{"ServiceNamespace":"ecs"}`); status != http.StatusOK || strings.Contains(body, "null") {
			t.Errorf("%s: %d %s", op, status, body)
		}
	}
}
