package deploy_test

import (
	"context"
	stdjson "encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// Delays small enough for fast tests and large enough that waits really wait.
const (
	startDelay = 40 * time.Millisecond
	stopDelay  = 20 * time.Millisecond
)

// env is an engine wired through real SDK clients to an in-process ecslocal.
type env struct {
	t   *testing.T
	srv *ecslocal.Server
	ecs *ecs.Client
	aas *applicationautoscaling.Client
	eng *deploy.Engine
	log *recLog
}

// recLog records the engine's log lines.
type recLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLog) add(level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+msg)
}
func (l *recLog) Info(_ context.Context, msg string, _ map[string]any)  { l.add("INFO", msg) }
func (l *recLog) Debug(_ context.Context, msg string, _ map[string]any) { l.add("DEBUG", msg) }
func (l *recLog) Warn(_ context.Context, msg string, _ map[string]any)  { l.add("WARN", msg) }

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := ecslocal.New(ecslocal.Options{StartDelay: startDelay, StopDelay: stopDelay})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}
	e := &env{t: t, srv: srv, log: &recLog{}}
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	e.aas = applicationautoscaling.NewFromConfig(cfg, func(o *applicationautoscaling.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	e.eng = &deploy.Engine{ECS: e.ecs, AutoScaling: e.aas, Log: e.log, Poll: deploy.PollConfig{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}}
	td := func(label string) json {
		return json(fmt.Sprintf(`{"family":"web","containerDefinitions":[{"name":"web","image":"nginx","dockerLabels":{"ecslocal.behavior":%q}}]}`, label))
	}
	if err := srv.ApplySeed(ecslocal.Seed{
		Clusters: []string{"prod"},
		TaskDefinitions: []json{
			td("healthy"), td("healthy"), td("crash-on-start"), td("crash-after=150ms"), td("slow-start=2s"), td("healthy"),
		},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

type json = stdjson.RawMessage

// Task definitions seeded by newEnv.
const (
	tdHealthy1   = "web:1"
	tdHealthy2   = "web:2"
	tdCrash      = "web:3"
	tdCrashAfter = "web:4"
	tdSlowStart  = "web:5"
	tdHealthy6   = "web:6"
)

func baseConfig(td string, desired int) deploy.Config {
	return deploy.Config{
		Cluster: "prod", Name: "web", DeploymentID: "prod/web", TaskDefinition: td,
		DesiredCount: &desired, RetainOldServices: 3, SteadyStateTimeout: 5 * time.Second,
		Phases: []deploy.Phase{{Percent: 25}, {Percent: 50}, {Percent: 100}},
	}
}

// counts returns desired/running of each named service.
func (e *env) live(names ...string) map[string][2]int {
	e.t.Helper()
	out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: names})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string][2]int{}
	for _, s := range out.Services {
		if aws.ToString(s.Status) == "ACTIVE" {
			m[*s.ServiceName] = [2]int{int(s.DesiredCount), int(s.RunningCount)}
		}
	}
	return m
}

// mark returns the current length of the timeline, to look only at what follows.
func (e *env) mark() int { return len(e.srv.Timeline()) }

// desiredChanges returns the desired counts a service went through since mark, starting with
// the count it had at mark.
func (e *env) desiredChanges(since int, service string) []int {
	var out []int
	last := -1
	for i, te := range e.srv.Timeline() {
		if te.Service != service {
			continue
		}
		if i < since {
			last = te.Desired
			continue
		}
		if len(out) == 0 && last >= 0 {
			out = append(out, last)
		}
		if te.Desired != last {
			out = append(out, te.Desired)
			last = te.Desired
		}
	}
	return out
}

// checkCapacity asserts SPEC §2.2.4's invariant on ecslocal's timeline after mark: once the
// new service has been scaled up, running(old) + running(new) never drops below floor. When
// the new revision's tasks fail, its running tasks cannot be relied on, so the check is on the
// old service alone: it must never run fewer tasks than floor minus the healthy new tasks,
// which for a crashing revision means old never drops below what it was asked to hold.
func (e *env) checkCapacity(since int, old, new string, floor int) {
	e.t.Helper()
	running := map[string]int{}
	started := false
	for i, te := range e.srv.Timeline() {
		if te.Service != old && te.Service != new {
			continue
		}
		running[te.Service] = te.Running
		if i < since {
			continue
		}
		if te.Service == new && te.Desired > 0 {
			started = true
		}
		if started && running[old]+running[new] < floor {
			e.t.Fatalf("capacity dipped to %d (< %d) at %s: %s running %d, %s running %d",
				running[old]+running[new], floor, te.Time.Format("15:04:05.000"), old, running[old], new, running[new])
		}
	}
}

func (e *env) callsOf(action string) int { return e.srv.CallCounts()[action] }

// writesTo lists write calls whose resource names the service.
func (e *env) writesTo(service string) []string {
	var out []string
	for _, c := range e.srv.Calls() {
		if c.Write && (c.Resource == service || strings.HasSuffix(c.Resource, "/"+service)) {
			out = append(out, c.Action())
		}
	}
	return out
}

var _ = types.ServiceFieldTags
