package ecslocal_test

import (
	"bytes"
	"encoding/json"
	"errors"
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
	"github.com/aws/smithy-go"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// ctlNoRetry turns the SDK's retries off for one call, so that each injected fault shows.
func ctlNoRetry(o *ecs.Options) { o.Retryer = aws.NopRetryer{} }

// ctlDo calls the control API; body is marshalled unless it is a string or nil.
func ctlDo(t *testing.T, e *env, method, path string, body any) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+ecslocal.ControlPrefix+path, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// ctlOK calls the control API, wants 200 and decodes the reply into out (unless nil).
func ctlOK(t *testing.T, e *env, method, path string, body, out any) {
	t.Helper()
	status, _, b := ctlDo(t, e, method, path, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// ctlAWS sends a raw, unsigned AWS JSON 1.1 request and returns the status, the headers and the
// decoded body.
func ctlAWS(t *testing.T, e *env, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: body %q is not a JSON object: %v", target, b, err)
	}
	return resp.StatusCode, resp.Header, m
}

func (e *env) ctlUpdate(desired int32, optFns ...func(*ecs.Options)) error {
	_, err := e.ecs.UpdateService(opsCtx, &ecs.UpdateServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("web__1"), DesiredCount: aws.Int32(desired),
	}, optFns...)
	return err
}

type ctlCalls struct {
	Counts map[string]int  `json:"counts"`
	Calls  []ecslocal.Call `json:"calls"`
}

func TestControl_Status(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	if _, err := e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(2), Tags: opsTags("team", "payments"),
	}); err != nil {
		t.Fatal(err)
	}
	e.createService(t, "gone__1", "web:1", 0)
	e.opsDelete(t, "gone__1", false)
	e.aasRegister(t, "web__1", 1, 4)
	e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 60))
	e.clock.Advance(time.Second)

	t.Run("status lists ACTIVE services with counts, tags and auto scaling", func(t *testing.T) {
		var rep ecslocal.StatusReport
		ctlOK(t, e, http.MethodGet, "status", nil, &rep)
		if len(rep.Services) != 1 {
			t.Fatalf("services %+v", rep.Services)
		}
		s := rep.Services[0]
		if s.Cluster != "prod" || s.Name != "web__1" || s.Status != "ACTIVE" || s.TaskDefinition != "web:1" ||
			s.Desired != 2 || s.Running != 2 || s.Pending != 0 || s.Tags["team"] != "payments" {
			t.Fatalf("status %+v", s)
		}
		if s.AutoScaling == nil || s.AutoScaling.Min != 1 || s.AutoScaling.Max != 4 || !slices.Equal(s.AutoScaling.Policies, []string{"cpu60"}) {
			t.Fatalf("auto scaling %+v", s.AutoScaling)
		}
	})

	t.Run("status over HTTP is what Status returns", func(t *testing.T) {
		_, hdr, b := ctlDo(t, e, http.MethodGet, "status", nil)
		want, _ := json.Marshal(e.srv.Status())
		var got, wantV any
		_ = json.Unmarshal(b, &got)
		_ = json.Unmarshal(want, &wantV)
		if hdr.Get("Content-Type") != "application/json" || !jsonEqual(got, wantV) {
			t.Fatalf("content type %q, body %s, want %s", hdr.Get("Content-Type"), b, want)
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestControl_CallsAndTimeline(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	start := e.clock.Now()
	ctlOK(t, e, http.MethodPost, "clear-observations", nil, nil)

	e.createService(t, "web__1", "web:1", 2)
	e.describe(t, "web__1")
	e.clock.Advance(time.Second)
	e.describe(t, "web__1")
	e.aasRegister(t, "web__1", 1, 4)
	_, err := e.ecs.UpdateService(opsCtx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("nope")})
	opsIs[*types.ServiceNotFoundException](t, err, "")

	t.Run("calls counts every call by action", func(t *testing.T) {
		var got ctlCalls
		ctlOK(t, e, http.MethodGet, "calls", nil, &got)
		want := map[string]int{
			"ecs:CreateService": 1, "ecs:DescribeServices": 2, "ecs:UpdateService": 1,
			"application-autoscaling:RegisterScalableTarget": 1,
		}
		if !jsonEqual(got.Counts, want) {
			t.Fatalf("counts %v, want %v", got.Counts, want)
		}
		if !jsonEqual(got.Counts, e.srv.CallCounts()) {
			t.Fatalf("counts over HTTP %v, from Go %v", got.Counts, e.srv.CallCounts())
		}
	})

	t.Run("each call has its resource, write flag, time and error code", func(t *testing.T) {
		var got ctlCalls
		ctlOK(t, e, http.MethodGet, "calls", nil, &got)
		var rows []string
		for i, c := range got.Calls {
			if i > 0 && c.Seq <= got.Calls[i-1].Seq {
				t.Errorf("calls out of order: %+v", got.Calls)
			}
			rows = append(rows, strings.Join([]string{c.Action(), c.Resource, map[bool]string{true: "write", false: "read"}[c.Write],
				c.Time.Sub(start).String(), c.ErrorCode}, " "))
		}
		want := []string{
			"ecs:CreateService web__1 write 0s ",
			"ecs:DescribeServices web__1 read 0s ",
			"ecs:DescribeServices web__1 read 1s ",
			"application-autoscaling:RegisterScalableTarget service/prod/web__1 write 1s ",
			"ecs:UpdateService nope write 1s ServiceNotFoundException",
		}
		if !slices.Equal(rows, want) {
			t.Fatalf("calls\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("the timeline records every change of counts at the instant it happened", func(t *testing.T) {
		var got []ecslocal.TimelineEntry
		ctlOK(t, e, http.MethodGet, "timeline", nil, &got)
		if len(got) < 2 {
			t.Fatalf("timeline %+v", got)
		}
		first, last := got[0], got[len(got)-1]
		if first.Service != "web__1" || first.Cluster != "prod" || first.Status != "ACTIVE" || !first.Time.Equal(start) ||
			first.Desired != 2 || first.Running != 0 || first.Pending != 2 {
			t.Fatalf("first entry %+v", first)
		}
		if !last.Time.Equal(start.Add(time.Second)) || last.Desired != 2 || last.Running != 2 || last.Pending != 0 {
			t.Fatalf("last entry %+v", last)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Time.Before(got[i-1].Time) {
				t.Fatalf("timeline out of order: %+v", got)
			}
		}
		if !jsonEqual(got, e.srv.Timeline()) {
			t.Fatalf("timeline over HTTP %+v, from Go %+v", got, e.srv.Timeline())
		}
	})

	t.Run("clear-observations empties calls and timeline but keeps the world", func(t *testing.T) {
		ctlOK(t, e, http.MethodPost, "clear-observations", nil, nil)
		var calls ctlCalls
		ctlOK(t, e, http.MethodGet, "calls", nil, &calls)
		var tl []ecslocal.TimelineEntry
		ctlOK(t, e, http.MethodGet, "timeline", nil, &tl)
		if len(calls.Calls) != 0 || len(calls.Counts) != 0 || len(tl) != 0 {
			t.Fatalf("calls %+v timeline %+v", calls, tl)
		}
		opsWantCounts(t, e.describe(t, "web__1"), 2, 2, 0)
	})
}

func TestControl_Config(t *testing.T) {
	t.Run("config shows the delays the server was started with", func(t *testing.T) {
		e := newEnv(t, time.Second, 500*time.Millisecond)
		var got map[string]any
		ctlOK(t, e, http.MethodGet, "config", nil, &got)
		want := map[string]any{"startDelay": "1s", "stopDelay": "500ms", "throttling": false, "allowedActions": nil}
		if !jsonEqual(got, want) {
			t.Fatalf("config %v, want %v", got, want)
		}
	})

	t.Run("posting config sets delays from duration strings or milliseconds", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		var got map[string]any
		ctlOK(t, e, http.MethodPost, "config", `{"startDelay":"2.5s","stopDelay":1500}`, &got)
		if got["startDelay"] != "2.5s" || got["stopDelay"] != "1.5s" {
			t.Fatalf("config after POST: %v", got)
		}
		cfg := e.srv.CurrentConfig()
		if time.Duration(cfg.StartDelay) != 2500*time.Millisecond || time.Duration(cfg.StopDelay) != 1500*time.Millisecond {
			t.Fatalf("CurrentConfig %+v", cfg)
		}
		// New tasks take the new start delay.
		e.createService(t, "web__1", "web:1", 1)
		e.clock.Advance(2 * time.Second)
		opsWantCounts(t, e.describe(t, "web__1"), 1, 0, 1)
		e.clock.Advance(500 * time.Millisecond)
		opsWantCounts(t, e.describe(t, "web__1"), 1, 1, 0)
	})

	t.Run("a config that does not parse is a 400 and changes nothing", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		status, _, b := ctlDo(t, e, http.MethodPost, "config", `{"startDelay":"soon"}`)
		if status != http.StatusBadRequest || !strings.Contains(string(b), `"error"`) {
			t.Fatalf("%d %s", status, b)
		}
		if time.Duration(e.srv.CurrentConfig().StartDelay) != time.Second {
			t.Fatalf("config changed: %+v", e.srv.CurrentConfig())
		}
	})

	t.Run("an allow-list denies every other action with AccessDeniedException", func(t *testing.T) {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 1)
		var got ecslocal.Config
		ctlOK(t, e, http.MethodPost, "config",
			`{"startDelay":"1s","stopDelay":"1s","allowedActions":["ecs:DescribeServices","ecs:UpdateService"]}`, &got)
		if !slices.Equal(got.AllowedActions, []string{"ecs:DescribeServices", "ecs:UpdateService"}) {
			t.Fatalf("allowedActions %v", got.AllowedActions)
		}

		_, err := e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web__2"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1),
		}, ctlNoRetry)
		denied := opsAs[*types.AccessDeniedException](t, err, "")
		if !strings.Contains(denied.ErrorMessage(), "is not authorized to perform: ecs:CreateService") {
			t.Fatalf("message %q", denied.ErrorMessage())
		}
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
			t.Fatalf("error code of %v", err)
		}

		// Application Auto Scaling has no modeled AccessDeniedException: the code still says it.
		_, err = e.aas.RegisterScalableTarget(opsCtx, aasTarget("web__1", aws.Int32(1), aws.Int32(2)))
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" ||
			!strings.Contains(apiErr.ErrorMessage(), "application-autoscaling:RegisterScalableTarget") {
			t.Fatalf("RegisterScalableTarget: %v", err)
		}

		// Allowed actions still work, and denied calls are in the call log.
		e.describe(t, "web__1")
		if err := e.ctlUpdate(2); err != nil {
			t.Fatal(err)
		}
		var calls ctlCalls
		ctlOK(t, e, http.MethodGet, "calls", nil, &calls)
		var denials []string
		for _, c := range calls.Calls {
			if c.ErrorCode == "AccessDeniedException" {
				denials = append(denials, c.Action())
			}
		}
		if !slices.Equal(denials, []string{"ecs:CreateService", "application-autoscaling:RegisterScalableTarget"}) {
			t.Fatalf("denied calls %v", denials)
		}

		// A config without an allow-list allows everything again.
		ctlOK(t, e, http.MethodPost, "config", `{"startDelay":"1s","stopDelay":"1s"}`, nil)
		e.createService(t, "web__2", "web:1", 1)
	})
}

func TestControl_Faults(t *testing.T) {
	setup := func(t *testing.T) *env {
		e := newEnv(t, 0, 0)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 1)
		return e
	}

	t.Run("a fault fails the next call of its operation once", func(t *testing.T) {
		e := setup(t)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{"operation": "UpdateService", "count": 1, "code": "ClientException", "status": 400}, nil)
		// Other operations are not affected.
		e.describe(t, "web__1")
		opsIs[*types.ClientException](t, e.ctlUpdate(2, ctlNoRetry), "Injected fault.")
		if err := e.ctlUpdate(2, ctlNoRetry); err != nil {
			t.Fatalf("second UpdateService: %v", err)
		}
		if got := e.describe(t, "web__1"); got.DesiredCount != 2 {
			t.Fatalf("desired %d", got.DesiredCount)
		}
	})

	t.Run("skip lets calls pass before the fault applies", func(t *testing.T) {
		e := setup(t)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{
			"operation": "ecs:UpdateService", "skip": 2, "count": 1, "code": "InvalidParameterException", "message": "boom",
		}, nil)
		var results []string
		for i := range 4 {
			err := e.ctlUpdate(int32(i), ctlNoRetry)
			if err == nil {
				results = append(results, "ok")
			} else {
				results = append(results, opsAs[*types.InvalidParameterException](t, err, "boom").ErrorMessage())
			}
		}
		if !slices.Equal(results, []string{"ok", "ok", "boom", "ok"}) {
			t.Fatalf("results %v", results)
		}
	})

	t.Run("a count of -1 fails every call until the faults are deleted", func(t *testing.T) {
		e := setup(t)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{"operation": "UpdateService", "count": -1, "code": "ClientException"}, nil)
		for range 5 {
			opsIs[*types.ClientException](t, e.ctlUpdate(1, ctlNoRetry), "")
		}
		ctlOK(t, e, http.MethodDelete, "faults", nil, nil)
		if err := e.ctlUpdate(1, ctlNoRetry); err != nil {
			t.Fatalf("after DELETE faults: %v", err)
		}
	})

	t.Run("an injected 503 ServerException is retried by the SDK's default retryer", func(t *testing.T) {
		e := setup(t)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{"operation": "DescribeServices", "count": 1, "code": "ServerException", "status": 503}, nil)
		ctlOK(t, e, http.MethodPost, "clear-observations", nil, nil)
		e.describe(t, "web__1") // default retryer
		var calls ctlCalls
		ctlOK(t, e, http.MethodGet, "calls", nil, &calls)
		if len(calls.Calls) != 2 || calls.Calls[0].ErrorCode != "ServerException" || calls.Calls[1].ErrorCode != "" {
			t.Fatalf("calls %+v", calls.Calls)
		}
	})

	t.Run("without retries an injected 503 is a ServerException", func(t *testing.T) {
		e := setup(t)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{"operation": "DescribeServices", "count": 1, "code": "ServerException", "status": 503}, nil)
		_, err := e.ecs.DescribeServices(opsCtx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1"}}, ctlNoRetry)
		opsIs[*types.ServerException](t, err, "Injected fault.")
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
			t.Fatalf("HTTP status of %v", err)
		}
	})

	t.Run("an injected ThrottlingException is retried by the SDK's default retryer", func(t *testing.T) {
		e := setup(t)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{"operation": "UpdateService", "count": 2, "code": "ThrottlingException", "message": "Rate exceeded"}, nil)
		if err := e.ctlUpdate(3); err != nil {
			t.Fatalf("UpdateService through two throttles: %v", err)
		}
		if n := e.srv.CallCounts()["ecs:UpdateService"]; n != 3 {
			t.Fatalf("%d UpdateService attempts, want 3", n)
		}
	})

	t.Run("a fault on an Application Auto Scaling operation fails that call", func(t *testing.T) {
		e := setup(t)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{"operation": "application-autoscaling:RegisterScalableTarget", "count": 1, "code": "ValidationException"}, nil)
		_, err := e.aas.RegisterScalableTarget(opsCtx, aasTarget("web__1", aws.Int32(1), aws.Int32(2)))
		opsIs[*aatypes.ValidationException](t, err, "Injected fault.")
		e.aasRegister(t, "web__1", 1, 2)
	})

	t.Run("a fault for every operation applies to any call", func(t *testing.T) {
		e := setup(t)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{"operation": "*", "count": 2, "code": "ClientException"}, nil)
		_, err := e.ecs.ListServices(opsCtx, &ecs.ListServicesInput{Cluster: aws.String("prod")}, ctlNoRetry)
		opsIs[*types.ClientException](t, err, "")
		_, err = e.aas.DescribeScalableTargets(opsCtx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aatypes.ServiceNamespaceEcs},
			func(o *aas.Options) { o.Retryer = aws.NopRetryer{} })
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ClientException" {
			t.Fatalf("DescribeScalableTargets: %v", err)
		}
		e.describe(t, "web__1")
	})

	t.Run("a fault body that does not parse is a 400", func(t *testing.T) {
		e := setup(t)
		if status, _, b := ctlDo(t, e, http.MethodPost, "faults", `{"count":"many"}`); status != http.StatusBadRequest {
			t.Fatalf("%d %s", status, b)
		}
	})
}

func TestControl_ResetSeedAutoscale(t *testing.T) {
	t.Run("reset forgets the world and the observations but keeps the config", func(t *testing.T) {
		e := newEnv(t, time.Second, 2*time.Second)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 1)
		ctlOK(t, e, http.MethodPost, "faults", map[string]any{"operation": "CreateCluster", "count": -1, "code": "ClientException"}, nil)
		ctlOK(t, e, http.MethodPost, "reset", nil, nil)

		out, err := e.ecs.DescribeClusters(opsCtx, &ecs.DescribeClustersInput{Clusters: []string{"prod"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Clusters) != 0 || len(out.Failures) != 1 {
			t.Fatalf("after reset: clusters %+v failures %+v", out.Clusters, out.Failures)
		}
		_, err = e.ecs.DescribeTaskDefinition(opsCtx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:1")})
		opsIs[*types.ClientException](t, err, "Unable to describe task definition.")
		if calls := e.srv.Calls(); len(calls) != 2 {
			t.Fatalf("call log after reset: %+v", calls)
		}
		if cfg := e.srv.CurrentConfig(); time.Duration(cfg.StopDelay) != 2*time.Second {
			t.Fatalf("config after reset %+v", cfg)
		}
		// The faults went too, and revisions start again at 1.
		e.seed(t)
		if td := e.registerWeb(t, "healthy"); td.Revision != 4 {
			t.Fatalf("revision %d after reset and seed", td.Revision)
		}
	})

	t.Run("seed creates clusters and registers task definitions", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		ctlOK(t, e, http.MethodPost, "seed", `{
			"clusters": ["prod", "staging"],
			"taskDefinitions": [
				{"family": "api", "containerDefinitions": [{"name": "api", "image": "api:1", "dockerLabels": {"ecslocal.behavior": "healthy"}}]},
				{"family": "api", "containerDefinitions": [{"name": "api", "image": "api:2"}]}
			]}`, nil)
		out, err := e.ecs.DescribeTaskDefinition(opsCtx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api")})
		if err != nil {
			t.Fatal(err)
		}
		if out.TaskDefinition.Revision != 2 || *out.TaskDefinition.ContainerDefinitions[0].Image != "api:2" {
			t.Fatalf("api resolves to revision %d with %s", out.TaskDefinition.Revision, *out.TaskDefinition.ContainerDefinitions[0].Image)
		}
		if _, err := e.ecs.CreateService(opsCtx, &ecs.CreateServiceInput{
			Cluster: aws.String("staging"), ServiceName: aws.String("api__1"), TaskDefinition: aws.String("api:1"), DesiredCount: aws.Int32(1),
		}); err != nil {
			t.Fatal(err)
		}
		if calls := e.srv.Calls(); len(calls) != 2 {
			t.Fatalf("seeding should not be in the call log: %+v", calls)
		}
	})

	t.Run("a seed with an invalid task definition is a 400 naming it", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		status, _, b := ctlDo(t, e, http.MethodPost, "seed", `{"taskDefinitions": [{"family": "bad family", "containerDefinitions": [{"name": "a", "image": "b"}]}]}`)
		if status != http.StatusBadRequest || !strings.Contains(string(b), "task definition 1") {
			t.Fatalf("%d %s", status, b)
		}
	})

	t.Run("autoscale sets a desired count clamped to the scalable target", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 2)
		e.aasRegister(t, "web__1", 1, 4)
		var got map[string]int
		ctlOK(t, e, http.MethodPost, "autoscale", `{"cluster":"prod","service":"web__1","desiredCount":9}`, &got)
		if got["desiredCount"] != 4 {
			t.Fatalf("autoscale replied %v", got)
		}
		if svc := e.describe(t, "web__1"); svc.DesiredCount != 4 {
			t.Fatalf("desired %d", svc.DesiredCount)
		}
	})

	t.Run("autoscale without a scalable target is a 400", func(t *testing.T) {
		e := newEnv(t, 0, 0)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 2)
		status, _, b := ctlDo(t, e, http.MethodPost, "autoscale", `{"cluster":"prod","service":"web__1","desiredCount":3}`)
		if status != http.StatusBadRequest || !strings.Contains(string(b), "no scalable target") {
			t.Fatalf("%d %s", status, b)
		}
		if svc := e.describe(t, "web__1"); svc.DesiredCount != 2 {
			t.Fatalf("desired %d", svc.DesiredCount)
		}
	})

	for _, tc := range []struct{ name, method, path string }{
		{"an unknown control path is a 404", http.MethodGet, "nope"},
		{"a control path with the wrong method is a 404", http.MethodGet, "faults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0, 0)
			status, hdr, b := ctlDo(t, e, tc.method, tc.path, nil)
			var body map[string]string
			if status != http.StatusNotFound || hdr.Get("Content-Type") != "application/json" ||
				json.Unmarshal(b, &body) != nil || !strings.Contains(body["error"], ecslocal.ControlPrefix+tc.path) {
				t.Fatalf("%d %q %s", status, hdr.Get("Content-Type"), b)
			}
		})
	}
}

func TestControl_WireProtocol(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.seed(t)

	for _, tc := range []struct {
		name, target, body string
		code, msgKey       string
	}{
		{"an unknown ECS operation is an UnknownOperationException",
			"AmazonEC2ContainerServiceV20141113.LaunchRocket", `{}`, "UnknownOperationException", "message"},
		{"an unknown Application Auto Scaling operation is an UnknownOperationException",
			"AnyScaleFrontendService.LaunchRocket", `{}`, "UnknownOperationException", "Message"},
		{"a request without X-Amz-Target is an UnknownOperationException",
			"", `{}`, "UnknownOperationException", "message"},
		{"malformed JSON is a SerializationException",
			"AmazonEC2ContainerServiceV20141113.DescribeServices", `{"cluster": "prod",`, "SerializationException", "message"},
		{"a member of the wrong type is a SerializationException",
			"AmazonEC2ContainerServiceV20141113.DescribeServices", `{"cluster": "prod", "services": "web__1"}`, "SerializationException", "message"},
		{"malformed JSON to Application Auto Scaling is a SerializationException",
			"AnyScaleFrontendService.DescribeScalableTargets", `{"ServiceNamespace": `, "SerializationException", "Message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := ctlAWS(t, e, tc.target, tc.body)
			if status != http.StatusBadRequest || hdr.Get("X-Amzn-ErrorType") != tc.code || body["__type"] != tc.code {
				t.Fatalf("status %d X-Amzn-ErrorType %q body %v", status, hdr.Get("X-Amzn-ErrorType"), body)
			}
			if msg, _ := body[tc.msgKey].(string); msg == "" {
				t.Fatalf("no %s member in %v", tc.msgKey, body)
			}
			if hdr.Get("Content-Type") != "application/x-amz-json-1.1" || hdr.Get("X-Amzn-RequestId") == "" {
				t.Fatalf("headers %v", hdr)
			}
		})
	}

	t.Run("a successful call answers JSON 1.1 with epoch-second timestamps", func(t *testing.T) {
		status, hdr, body := ctlAWS(t, e, "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition", `{"taskDefinition":"web:1"}`)
		if status != http.StatusOK || hdr.Get("Content-Type") != "application/x-amz-json-1.1" || hdr.Get("X-Amzn-RequestId") == "" {
			t.Fatalf("status %d headers %v", status, hdr)
		}
		td, _ := body["taskDefinition"].(map[string]any)
		if at, ok := td["registeredAt"].(float64); !ok || int64(at) != e.clock.Now().Unix() {
			t.Fatalf("registeredAt %v, want %d", td["registeredAt"], e.clock.Now().Unix())
		}
		// The ARN has the region the SDK signed the registration for.
		if td["taskDefinitionArn"] != opsArnPrefix+"task-definition/web:1" {
			t.Fatalf("taskDefinitionArn %v", td["taskDefinitionArn"])
		}
	})

	t.Run("a resource created by an unsigned request gets an ARN of the default region", func(t *testing.T) {
		status, _, body := ctlAWS(t, e, "AmazonEC2ContainerServiceV20141113.CreateCluster", `{"clusterName":"raw"}`)
		c, _ := body["cluster"].(map[string]any)
		if status != http.StatusOK || c["clusterArn"] != "arn:aws:ecs:us-east-1:000000000000:cluster/raw" {
			t.Fatalf("%d %v", status, body)
		}
	})

	t.Run("an empty body is an empty request", func(t *testing.T) {
		status, _, body := ctlAWS(t, e, "AmazonEC2ContainerServiceV20141113.ListServices", ``)
		// The default cluster does not exist.
		if status != http.StatusBadRequest || body["__type"] != "ClusterNotFoundException" || body["message"] != "Cluster not found." {
			t.Fatalf("%d %v", status, body)
		}
	})

	t.Run("a GET is refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/", nil)
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListServices")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
