package ecslocal_test

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aatypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

var aasScheduledArnFormat = regexp.MustCompile(`^arn:aws:autoscaling:eu-west-1:000000000000:scheduledAction:` + aasUUID +
	`:resource/ecs/service/prod/web__1:scheduledActionName/[^/]+$`)

// aasScheduled is a PutScheduledActionInput for an ECS service of cluster prod.
func aasScheduled(service, name, schedule string, lo, hi *int32) *aas.PutScheduledActionInput {
	in := &aas.PutScheduledActionInput{
		ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
		ResourceId: aws.String("service/prod/" + service), ScheduledActionName: aws.String(name),
	}
	if schedule != "" {
		in.Schedule = aws.String(schedule)
	}
	if lo != nil || hi != nil {
		in.ScalableTargetAction = &aatypes.ScalableTargetAction{MinCapacity: lo, MaxCapacity: hi}
	}
	return in
}

func (e *env) aasSchedule(t *testing.T, in *aas.PutScheduledActionInput) {
	t.Helper()
	if _, err := e.aas.PutScheduledAction(opsCtx, in); err != nil {
		t.Fatal(err)
	}
}

// aasScheduledActions returns every ECS scheduled action, paging one at a time.
func (e *env) aasScheduledActions(t *testing.T, in aas.DescribeScheduledActionsInput) []aatypes.ScheduledAction {
	t.Helper()
	in.ServiceNamespace = aatypes.ServiceNamespaceEcs
	var out []aatypes.ScheduledAction
	p := aas.NewDescribeScheduledActionsPaginator(e.aas, &in)
	for p.HasMorePages() {
		page, err := p.NextPage(opsCtx)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.ScheduledActions...)
	}
	return out
}

// webActivities returns "description|cause|status" of web__1's scaling activities, newest first.
func (e *env) webActivities(t *testing.T) []string {
	t.Helper()
	out, err := e.aas.DescribeScalingActivities(opsCtx, &aas.DescribeScalingActivitiesInput{
		ServiceNamespace: aatypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range out.ScalingActivities {
		got = append(got, fmt.Sprintf("%s|%s|%s", aws.ToString(a.Description), aws.ToString(a.Cause), a.StatusCode))
	}
	return got
}

// wantWeb checks web__1's scalable target range and desired count.
func (e *env) wantWeb(t *testing.T, lo, hi, desired int32) {
	t.Helper()
	const service = "web__1"
	tg := e.aasTargets(t, "service/prod/"+service)
	if len(tg) != 1 || *tg[0].MinCapacity != lo || *tg[0].MaxCapacity != hi {
		t.Fatalf("target %+v, want %d..%d", tg, lo, hi)
	}
	if got := e.describe(t, service).DesiredCount; got != desired {
		t.Fatalf("desired count %d, want %d", got, desired)
	}
}

func TestScheduledActions_PutDescribeDelete(t *testing.T) {
	t.Run("an action is described with every member given", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		created := e.clock.Now()
		start, end := created.Add(time.Hour), created.Add(48*time.Hour)
		in := aasScheduled("web__1", "morning", "cron(0 9 * * ? *)", aws.Int32(3), aws.Int32(6))
		in.Timezone, in.StartTime, in.EndTime = aws.String("Europe/Paris"), &start, &end
		e.aasSchedule(t, in)

		got := e.aasScheduledActions(t, aas.DescribeScheduledActionsInput{})
		if len(got) != 1 {
			t.Fatalf("%d actions", len(got))
		}
		a := got[0]
		if aws.ToString(a.ScheduledActionName) != "morning" || !aasScheduledArnFormat.MatchString(aws.ToString(a.ScheduledActionARN)) ||
			a.ServiceNamespace != aatypes.ServiceNamespaceEcs || aws.ToString(a.Schedule) != "cron(0 9 * * ? *)" ||
			aws.ToString(a.Timezone) != "Europe/Paris" || aws.ToString(a.ResourceId) != "service/prod/web__1" ||
			a.ScalableDimension != aatypes.ScalableDimensionECSServiceDesiredCount ||
			a.StartTime == nil || !a.StartTime.Equal(start) || a.EndTime == nil || !a.EndTime.Equal(end) ||
			a.ScalableTargetAction == nil || aws.ToInt32(a.ScalableTargetAction.MinCapacity) != 3 || aws.ToInt32(a.ScalableTargetAction.MaxCapacity) != 6 ||
			a.CreationTime == nil || !a.CreationTime.Equal(created) {
			t.Fatalf("action %+v", a)
		}
	})

	t.Run("putting an existing name updates it: omitted start and end times are deleted, other members kept", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		start := e.clock.Now().Add(time.Hour)
		in := aasScheduled("web__1", "nightly", "cron(0 22 * * ? *)", aws.Int32(1), aws.Int32(2))
		in.StartTime, in.Timezone = &start, aws.String("America/New_York")
		e.aasSchedule(t, in)
		arn := aws.ToString(e.aasScheduledActions(t, aas.DescribeScheduledActionsInput{})[0].ScheduledActionARN)

		e.clock.Advance(time.Minute)
		e.aasSchedule(t, aasScheduled("web__1", "nightly", "", nil, aws.Int32(3)))
		got := e.aasScheduledActions(t, aas.DescribeScheduledActionsInput{})
		if len(got) != 1 {
			t.Fatalf("%d actions after an update", len(got))
		}
		a := got[0]
		if aws.ToString(a.ScheduledActionARN) != arn || aws.ToString(a.Schedule) != "cron(0 22 * * ? *)" ||
			aws.ToString(a.Timezone) != "America/New_York" || a.StartTime != nil || a.EndTime != nil ||
			a.ScalableTargetAction == nil || a.ScalableTargetAction.MinCapacity != nil || aws.ToInt32(a.ScalableTargetAction.MaxCapacity) != 3 {
			t.Fatalf("updated action %+v", a)
		}
	})

	t.Run("filters and pages", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		e.aasRegister(t, "api__1", 1, 4)
		e.aasSchedule(t, aasScheduled("web__1", "a", "rate(1 hour)", aws.Int32(2), nil))
		e.aasSchedule(t, aasScheduled("web__1", "b", "rate(2 hours)", aws.Int32(2), nil))
		e.aasSchedule(t, aasScheduled("api__1", "a", "rate(1 day)", aws.Int32(2), nil))
		names := func(in aas.DescribeScheduledActionsInput) []string {
			var out []string
			for _, a := range e.aasScheduledActions(t, in) {
				out = append(out, aws.ToString(a.ResourceId)+"/"+aws.ToString(a.ScheduledActionName))
			}
			return out
		}
		if got := names(aas.DescribeScheduledActionsInput{MaxResults: aws.Int32(1)}); len(got) != 3 {
			t.Fatalf("all, one a page: %v", got)
		}
		if got := names(aas.DescribeScheduledActionsInput{ResourceId: aws.String("service/prod/web__1"),
			ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount}); !slices.Equal(got, []string{"service/prod/web__1/a", "service/prod/web__1/b"}) {
			t.Fatalf("web__1's: %v", got)
		}
		if got := names(aas.DescribeScheduledActionsInput{ScheduledActionNames: []string{"a"}}); !slices.Equal(got, []string{"service/prod/api__1/a", "service/prod/web__1/a"}) {
			t.Fatalf("named a: %v", got)
		}
		for _, in := range []*aas.DescribeScheduledActionsInput{
			{ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount},
			{ServiceNamespace: aatypes.ServiceNamespaceEcs, MaxResults: aws.Int32(51)},
		} {
			_, err := e.aas.DescribeScheduledActions(opsCtx, in)
			opsIs[*aatypes.ValidationException](t, err, "")
		}
		_, err := e.aas.DescribeScheduledActions(opsCtx, &aas.DescribeScheduledActionsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs, NextToken: aws.String("bogus")})
		opsIs[*aatypes.InvalidNextTokenException](t, err, "")
		if out, err := e.aas.DescribeScheduledActions(opsCtx, &aas.DescribeScheduledActionsInput{ServiceNamespace: aatypes.ServiceNamespaceDynamodb}); err != nil || len(out.ScheduledActions) != 0 {
			t.Fatalf("dynamodb: %v %v", out, err)
		}
	})

	t.Run("deleting removes the action; a missing one is an ObjectNotFoundException", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		e.aasSchedule(t, aasScheduled("web__1", "a", "rate(1 hour)", aws.Int32(2), nil))
		del := func(name string) error {
			_, err := e.aas.DeleteScheduledAction(opsCtx, &aas.DeleteScheduledActionInput{
				ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
				ResourceId: aws.String("service/prod/web__1"), ScheduledActionName: aws.String(name),
			})
			return err
		}
		if err := del("a"); err != nil {
			t.Fatal(err)
		}
		if got := e.aasScheduledActions(t, aas.DescribeScheduledActionsInput{}); len(got) != 0 {
			t.Fatalf("after delete: %+v", got)
		}
		opsIs[*aatypes.ObjectNotFoundException](t, del("a"), "")
	})

	t.Run("deregistering the target deletes its scheduled actions", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		e.aasRegister(t, "api__1", 1, 4)
		e.aasSchedule(t, aasScheduled("web__1", "a", "rate(1 hour)", aws.Int32(2), nil))
		e.aasSchedule(t, aasScheduled("api__1", "a", "rate(1 hour)", aws.Int32(2), nil))
		if _, err := e.aas.DeregisterScalableTarget(opsCtx, &aas.DeregisterScalableTargetInput{
			ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
			ResourceId: aws.String("service/prod/web__1"),
		}); err != nil {
			t.Fatal(err)
		}
		got := e.aasScheduledActions(t, aas.DescribeScheduledActionsInput{})
		if len(got) != 1 || aws.ToString(got[0].ResourceId) != "service/prod/api__1" {
			t.Fatalf("after deregistering web__1: %+v", got)
		}
		// Registering it again brings none back, and nothing fires for it.
		e.aasRegister(t, "web__1", 1, 4)
		e.clock.Advance(2 * time.Hour)
		if got := e.aasScheduledActions(t, aas.DescribeScheduledActionsInput{ResourceId: aws.String("service/prod/web__1")}); len(got) != 0 {
			t.Fatalf("web__1's actions after re-registering: %+v", got)
		}
		e.wantWeb(t, 1, 4, 2)
	})
}

func TestScheduledActions_Validation(t *testing.T) {
	past, future := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	withTimes := func(in *aas.PutScheduledActionInput, start, end time.Time) *aas.PutScheduledActionInput {
		in.StartTime, in.EndTime = &start, &end
		return in
	}
	withZone := func(in *aas.PutScheduledActionInput, zone string) *aas.PutScheduledActionInput {
		in.Timezone = aws.String(zone)
		return in
	}
	for _, tc := range []struct {
		name  string
		in    *aas.PutScheduledActionInput
		check opsErrCheck
	}{
		{"an unregistered target is an ObjectNotFoundException",
			aasScheduled("api__1", "a", "rate(1 hour)", aws.Int32(1), nil),
			opsWant[*aatypes.ObjectNotFoundException](fmt.Sprintf(aasNotRegistered, "service/prod/api__1"))},
		{"a new action without a schedule is a ValidationException",
			aasScheduled("web__1", "a", "", aws.Int32(1), nil), opsWant[*aatypes.ValidationException]("")},
		{"a malformed at expression is a ValidationException",
			aasScheduled("web__1", "a", "at(2026-12-01 08:00)", aws.Int32(1), nil), opsWant[*aatypes.ValidationException]("")},
		{"a plural unit for 1 is a ValidationException",
			aasScheduled("web__1", "a", "rate(1 minutes)", aws.Int32(1), nil), opsWant[*aatypes.ValidationException]("")},
		{"a singular unit for 5 is a ValidationException",
			aasScheduled("web__1", "a", "rate(5 hour)", aws.Int32(1), nil), opsWant[*aatypes.ValidationException]("")},
		{"a five-field cron is a ValidationException",
			aasScheduled("web__1", "a", "cron(0 9 * * *)", aws.Int32(1), nil), opsWant[*aatypes.ValidationException]("")},
		{"a cron with both days given is a ValidationException",
			aasScheduled("web__1", "a", "cron(0 9 * * MON *)", aws.Int32(1), nil), opsWant[*aatypes.ValidationException]("")},
		{"an unknown time zone is a ValidationException",
			withZone(aasScheduled("web__1", "a", "cron(0 9 * * ? *)", aws.Int32(1), nil), "Mars/Olympus_Mons"),
			opsWant[*aatypes.ValidationException]("")},
		{"a minimum above the maximum is a ValidationException",
			aasScheduled("web__1", "a", "rate(1 hour)", aws.Int32(5), aws.Int32(2)), opsWant[*aatypes.ValidationException]("")},
		{"a negative capacity is a ValidationException",
			aasScheduled("web__1", "a", "rate(1 hour)", aws.Int32(-1), nil), opsWant[*aatypes.ValidationException]("")},
		{"an end before the start is a ValidationException",
			withTimes(aasScheduled("web__1", "a", "rate(1 hour)", aws.Int32(1), nil), future, past), opsWant[*aatypes.ValidationException]("")},
		{"a name with a colon is a ValidationException",
			aasScheduled("web__1", "a:b", "rate(1 hour)", aws.Int32(1), nil), opsWant[*aatypes.ValidationException]("")},
		{"another scalable dimension is a ValidationException",
			&aas.PutScheduledActionInput{
				ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionDynamoDBTableReadCapacityUnits,
				ResourceId: aws.String("service/prod/web__1"), ScheduledActionName: aws.String("a"), Schedule: aws.String("rate(1 hour)"),
			},
			opsWant[*aatypes.ValidationException](aasUnsupported)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := aasEnv(t)
			e.aasRegister(t, "web__1", 1, 4)
			_, err := e.aas.PutScheduledAction(opsCtx, tc.in)
			tc.check(t, err)
			if got := e.aasScheduledActions(t, aas.DescribeScheduledActionsInput{}); len(got) != 0 {
				t.Fatalf("a refused put left %+v", got)
			}
		})
	}
}

func TestScheduledActions_Fire(t *testing.T) {
	// aasEnv's clock is at 2026-11-26T12:00:01Z, a Thursday; web__1 runs 2 tasks.
	t.Run("an at action fires once, at its time, setting the range and moving the count", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		e.aasSchedule(t, aasScheduled("web__1", "once", "at(2026-11-26T12:10:00)", aws.Int32(5), aws.Int32(8)))
		e.clock.Advance(10*time.Minute - 2*time.Second) // 12:09:59
		e.wantWeb(t, 1, 4, 2)
		e.clock.Advance(time.Second)
		e.wantWeb(t, 5, 8, 5)
		e.clock.Advance(2 * time.Second) // the tasks start a second after the activity
		opsWantCounts(t, e.describe(t, "web__1"), 5, 5, 0)
		want := []string{"Setting desired count to 5.|scheduled action name once was triggered|Successful"}
		if got := e.webActivities(t); !slices.Equal(got, want) {
			t.Fatalf("activities %q", got)
		}
		// It does not fire again: a count set afterwards stays.
		if _, err := e.srv.AutoScale("prod", "web__1", 7); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(48 * time.Hour)
		e.wantWeb(t, 5, 8, 7)
	})

	t.Run("cron actions recur in their time zone", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		morning := aasScheduled("web__1", "morning", "cron(0 9 * * ? *)", aws.Int32(4), aws.Int32(6))
		morning.Timezone = aws.String("Europe/Paris") // UTC+1 in November
		evening := aasScheduled("web__1", "evening", "cron(0 18 * * ? *)", aws.Int32(1), aws.Int32(2))
		evening.Timezone = aws.String("Europe/Paris")
		e.aasSchedule(t, morning)
		e.aasSchedule(t, evening)
		e.clock.Advance(4*time.Hour + 59*time.Minute + 58*time.Second) // 16:59:59 UTC
		e.wantWeb(t, 1, 4, 2)
		e.clock.Advance(time.Second) // 17:00 UTC, 18:00 in Paris
		e.wantWeb(t, 1, 2, 2)
		e.clock.Advance(15 * time.Hour) // 08:00 UTC the next day
		e.wantWeb(t, 4, 6, 4)
		e.clock.Advance(9 * time.Hour) // 17:00 UTC
		e.wantWeb(t, 1, 2, 2)
		// A week at once: the last occurrence due is the evening's.
		e.clock.Advance(7 * 24 * time.Hour)
		e.wantWeb(t, 1, 2, 2)
		e.clock.Advance(15 * time.Hour)
		e.wantWeb(t, 4, 6, 4)
		got := e.webActivities(t)
		if len(got) < 4 || got[0] != "Setting desired count to 4.|scheduled action name morning was triggered|Successful" ||
			got[len(got)-1] != "Setting min capacity to 1 and max capacity to 2|scheduled action name evening was triggered|Successful" {
			t.Fatalf("activities %q", got)
		}
	})

	t.Run("a rate action recurs from when it was put", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		e.aasSchedule(t, aasScheduled("web__1", "floor", "rate(5 minutes)", aws.Int32(3), nil))
		e.clock.Advance(5*time.Minute - time.Second)
		e.wantWeb(t, 1, 4, 2)
		e.clock.Advance(time.Second)
		e.wantWeb(t, 3, 4, 3)
		// Lower the range by hand; the next occurrence raises it again.
		e.aasRegister(t, "web__1", 1, 4)
		if _, err := e.srv.AutoScale("prod", "web__1", 1); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(5 * time.Minute)
		e.wantWeb(t, 3, 4, 3)
		// Changing only its capacities keeps its period: the next occurrence is still at 15 minutes.
		e.clock.Advance(2 * time.Minute)
		e.aasSchedule(t, aasScheduled("web__1", "floor", "", aws.Int32(4), nil))
		e.clock.Advance(3*time.Minute - time.Second)
		e.wantWeb(t, 3, 4, 3)
		e.clock.Advance(time.Second)
		e.wantWeb(t, 4, 4, 4)
	})

	t.Run("a recurring action fires only between its start and end times", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		now := e.clock.Now()
		start, end := now.Add(time.Hour), now.Add(2*time.Hour)
		in := aasScheduled("web__1", "window", "cron(* * * * ? *)", aws.Int32(3), nil)
		in.StartTime, in.EndTime = &start, &end
		e.aasSchedule(t, in)
		e.clock.Advance(time.Hour - 2*time.Second) // 12:59:59
		e.wantWeb(t, 1, 4, 2)
		e.clock.Advance(time.Minute) // 13:00:59: the first minute at or after the start is 13:01
		e.wantWeb(t, 1, 4, 2)
		e.clock.Advance(time.Second)
		e.wantWeb(t, 3, 4, 3)
		// After the end time, nothing raises it again.
		e.clock.Advance(time.Hour)
		e.aasRegister(t, "web__1", 1, 4)
		if _, err := e.srv.AutoScale("prod", "web__1", 1); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)
		e.wantWeb(t, 1, 4, 1)
	})

	t.Run("a target whose scheduled scaling is suspended does not fire", func(t *testing.T) {
		e := aasEnv(t)
		in := aasTarget("web__1", aws.Int32(1), aws.Int32(4))
		in.SuspendedState = &aatypes.SuspendedState{ScheduledScalingSuspended: aws.Bool(true)}
		if _, err := e.aas.RegisterScalableTarget(opsCtx, in); err != nil {
			t.Fatal(err)
		}
		e.aasSchedule(t, aasScheduled("web__1", "once", "at(2026-11-26T12:10:00)", aws.Int32(5), aws.Int32(8)))
		e.aasSchedule(t, aasScheduled("web__1", "hourly", "cron(30 * * * ? *)", aws.Int32(3), nil))
		e.clock.Advance(time.Hour)
		e.wantWeb(t, 1, 4, 2)
		if got := e.webActivities(t); len(got) != 0 {
			t.Fatalf("activities %q", got)
		}
		// Resumed, the recurring action fires at its next occurrence; the missed one does not.
		in.SuspendedState = &aatypes.SuspendedState{ScheduledScalingSuspended: aws.Bool(false)}
		if _, err := e.aas.RegisterScalableTarget(opsCtx, in); err != nil {
			t.Fatal(err)
		}
		e.wantWeb(t, 1, 4, 2)
		e.clock.Advance(time.Hour)
		e.wantWeb(t, 3, 4, 3)
	})

	t.Run("an action whose minimum exceeds the target's maximum fails and changes nothing", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 4)
		e.aasSchedule(t, aasScheduled("web__1", "too-high", "at(2026-11-26T12:10:00)", aws.Int32(6), nil))
		e.clock.Advance(10 * time.Minute)
		e.wantWeb(t, 1, 4, 2)
		want := []string{"Setting min capacity to 6 and max capacity to 4|scheduled action name too-high was triggered|Failed"}
		if got := e.webActivities(t); !slices.Equal(got, want) {
			t.Fatalf("activities %q", got)
		}
	})
}

// TestAutoScaling_DelayedClamp: RegisterScalableTarget moves the desired count into the new
// range through a scaling activity that is InProgress for 5 s of emulated time.
func TestAutoScaling_DelayedClamp(t *testing.T) {
	t.Run("the activity is InProgress, then Successful with an end time", func(t *testing.T) {
		e := aasEnv(t)
		registered := e.clock.Now()
		e.aasRegister(t, "web__1", 3, 6)
		acts := func() []aatypes.ScalingActivity {
			out, err := e.aas.DescribeScalingActivities(opsCtx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aatypes.ServiceNamespaceEcs})
			if err != nil {
				t.Fatal(err)
			}
			return out.ScalingActivities
		}
		a := acts()
		if len(a) != 1 || a[0].StatusCode != aatypes.ScalingActivityStatusCodeInProgress || a[0].EndTime != nil ||
			aws.ToString(a[0].Description) != "Setting desired count to 3." || aws.ToString(a[0].Cause) != "minimum capacity was set to 3" ||
			!a[0].StartTime.Equal(registered) {
			t.Fatalf("activity %+v", a)
		}
		e.clock.Advance(aasClampDelay)
		a = acts()
		if len(a) != 1 || a[0].StatusCode != aatypes.ScalingActivityStatusCodeSuccessful || a[0].EndTime == nil ||
			!a[0].EndTime.Equal(registered.Add(aasClampDelay)) ||
			aws.ToString(a[0].StatusMessage) != "Successfully set desired count to 3. Change successfully fulfilled by ecs." {
			t.Fatalf("activity %+v", a)
		}
		e.wantWeb(t, 3, 6, 3)
	})

	t.Run("a second registration in the meantime replaces the activity", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 3, 6)
		e.clock.Advance(time.Second)
		e.aasRegister(t, "web__1", 0, 1)
		want := []string{"Setting desired count to 1.|maximum capacity was set to 1|InProgress"}
		if got := e.webActivities(t); !slices.Equal(got, want) {
			t.Fatalf("activities %q", got)
		}
		e.clock.Advance(aasClampDelay)
		e.wantWeb(t, 0, 1, 1)
		// A range that holds the count again drops the activity in progress.
		e.aasRegister(t, "web__1", 5, 6)
		e.aasRegister(t, "web__1", 1, 6)
		e.clock.Advance(aasClampDelay)
		e.wantWeb(t, 1, 6, 1)
		if got := e.webActivities(t); len(got) != 1 {
			t.Fatalf("activities %q", got)
		}
	})

	t.Run("deregistering in the meantime leaves the count", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 3, 6)
		if _, err := e.aas.DeregisterScalableTarget(opsCtx, &aas.DeregisterScalableTargetInput{
			ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
			ResourceId: aws.String("service/prod/web__1"),
		}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(aasClampDelay)
		if got := e.describe(t, "web__1").DesiredCount; got != 2 {
			t.Fatalf("desired %d", got)
		}
		if got := e.webActivities(t); len(got) != 0 {
			t.Fatalf("activities %q", got)
		}
	})

	t.Run("an update that names no capacity (a suspension) leaves a count outside the range, and one that names a capacity moves it in", func(t *testing.T) {
		e := aasEnv(t)
		e.aasRegister(t, "web__1", 1, 2)
		e.clock.Advance(aasClampDelay)
		// A person scales the service above the range's maximum.
		if _, err := e.ecs.UpdateService(opsCtx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), DesiredCount: aws.Int32(5)}); err != nil {
			t.Fatal(err)
		}
		register := func(in *aas.RegisterScalableTargetInput) {
			t.Helper()
			in.ServiceNamespace, in.ScalableDimension = aatypes.ServiceNamespaceEcs, aatypes.ScalableDimensionECSServiceDesiredCount
			in.ResourceId = aws.String("service/prod/web__1")
			if _, err := e.aas.RegisterScalableTarget(opsCtx, in); err != nil {
				t.Fatal(err)
			}
		}
		register(&aas.RegisterScalableTargetInput{SuspendedState: &aatypes.SuspendedState{
			DynamicScalingInSuspended: aws.Bool(true), DynamicScalingOutSuspended: aws.Bool(true), ScheduledScalingSuspended: aws.Bool(true),
		}})
		register(&aas.RegisterScalableTargetInput{SuspendedState: &aatypes.SuspendedState{}})
		e.clock.Advance(aasClampDelay)
		if got := e.describe(t, "web__1").DesiredCount; got != 5 {
			t.Fatalf("desired %d after updates of the suspended state only, want the 5 a person set", got)
		}
		register(&aas.RegisterScalableTargetInput{MaxCapacity: aws.Int32(2)})
		e.clock.Advance(aasClampDelay)
		e.wantWeb(t, 1, 2, 2)
	})

	t.Run("the delay is scaled by the time scale", func(t *testing.T) {
		e := newEnvWith(t, ecslocal.Options{TimeScale: 0.01})
		e.seed(t)
		e.createService(t, "web__1", "web:1", 2)
		e.aasRegister(t, "web__1", 3, 6)
		e.clock.Advance(49 * time.Millisecond)
		if got := e.describe(t, "web__1").DesiredCount; got != 2 {
			t.Fatalf("desired %d after 49 ms", got)
		}
		e.clock.Advance(time.Millisecond)
		if got := e.describe(t, "web__1").DesiredCount; got != 3 {
			t.Fatalf("desired %d after 50 ms", got)
		}
	})
}
