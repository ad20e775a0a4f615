// Command bench measures the engine and the provider against ecslocal: how close a rollout
// comes to the floor ECS sets, how late it notices, how many API calls it spends, and how it
// compares with the SDK's ServicesStable waiter. `make bench` runs it; it prints one
// `METRIC <name> <value>` line per figure and writes BENCHMARKS.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// metric is one measured figure with what it is compared against.
type metric struct {
	name, value, goal, note string
}

type report struct {
	mu      sync.Mutex
	metrics []metric
	details []string
}

func (r *report) add(name, value, goal, note string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, metric{name, value, goal, note})
	fmt.Printf("METRIC %s %s\n", name, value)
}

func (r *report) detail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.details = append(r.details, fmt.Sprintf(format, args...))
}

func main() {
	out := flag.String("out", "BENCHMARKS.md", "where to write the report")
	terraform := flag.String("terraform", "bin/terraform", "Terraform binary for the plan benchmarks")
	only := flag.String("only", "", `run one benchmark and print its figures, writing no report: "analysis" or "health"`)
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()
	rep := &report{}
	start := time.Now()
	if *only != "" {
		one := map[string]func(context.Context, *report) error{"analysis": benchAnalysisGate, "health": benchHealthGate}[*only]
		if one == nil {
			log.Fatalf("-only %q: the benchmarks that run alone are analysis and health", *only)
		}
		must(one(ctx, rep))
		for _, m := range rep.metrics {
			fmt.Printf("%s = %s (goal %s): %s\n", m.name, m.value, m.goal, m.note)
		}
		for _, d := range rep.details {
			fmt.Println(d)
		}
		return
	}

	// The long, mostly idle runs go side by side with each other and with the rest.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); must(benchRealistic(ctx, rep)) }()
	var baselineWall time.Duration
	go func() { defer wg.Done(); var err error; baselineWall, err = benchBaseline(ctx, rep); must(err) }()

	oursWall := must1(benchRollout(ctx, rep))
	must(benchRollback(ctx, rep, false))
	must(benchRollback(ctx, rep, true))
	must(benchHealthGate(ctx, rep))
	must(benchAnalysisGate(ctx, rep))
	must(benchDiscovery(ctx, rep))
	must(benchTerraformPlan(ctx, rep, *terraform))
	wg.Wait()
	rep.add("baseline_speedup", fmt.Sprintf("%.1f", baselineWall.Seconds()/oursWall.Seconds()), "≥ 10",
		fmt.Sprintf("ServicesStableWaiter-driven 3 phases %.1f s ÷ engine %.1f s, same delays, same run", baselineWall.Seconds(), oursWall.Seconds()))
	rep.detail("bench wall time: %s", time.Since(start).Round(time.Second))
	must(writeReport(*out, rep))
	fmt.Printf("bench finished in %s; wrote %s\n", time.Since(start).Round(time.Second), *out)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func must1[T any](v T, err error) T {
	must(err)
	return v
}

// local is one in-process ecslocal with real SDK clients.
type local struct {
	srv *ecslocal.Server
	url string
	ecs *ecs.Client
	aas *applicationautoscaling.Client
	elb *elbv2.Client
	hs  *httptest.Server
}

// newLocalWith starts an in-process ecslocal with opts and SDK clients pointed at it.
func newLocalWith(opts ecslocal.Options) *local {
	srv := ecslocal.New(opts)
	hs := httptest.NewServer(srv)
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")}
	return &local{srv: srv, url: hs.URL, hs: hs,
		ecs: ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(hs.URL) }),
		aas: applicationautoscaling.NewFromConfig(cfg, func(o *applicationautoscaling.Options) { o.BaseEndpoint = aws.String(hs.URL) }),
		elb: elbv2.NewFromConfig(cfg, func(o *elbv2.Options) { o.BaseEndpoint = aws.String(hs.URL) }),
	}
}

func newLocal(startDelay, stopDelay time.Duration, tds ...string) (*local, error) {
	l := newLocalWith(ecslocal.Options{StartDelay: startDelay, StopDelay: stopDelay})
	seed := ecslocal.Seed{Clusters: []string{"prod"}}
	for _, label := range tds {
		seed.TaskDefinitions = append(seed.TaskDefinitions, json.RawMessage(fmt.Sprintf(
			`{"family":"web","containerDefinitions":[{"name":"web","image":"nginx","dockerLabels":{"ecslocal.behavior":%q}}]}`, label)))
	}
	return l, l.srv.ApplySeed(seed)
}

// production creates web__1 at 8 tasks of web:1 with the ownership tags, as a first rollout
// would have left it, and waits until its tasks run.
func (l *local) production(ctx context.Context) (deploy.State, error) {
	const n = 8
	out, err := l.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(int32(n)), Tags: []types.Tag{
			{Key: aws.String(deploy.OwnerTag), Value: aws.String("prod/web")},
			{Key: aws.String(deploy.RevisionTag), Value: aws.String("1")},
		},
	})
	if err != nil {
		return deploy.State{}, err
	}
	for {
		if s := l.srv.Status().Services; len(s) == 1 && s[0].Running == n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return deploy.State{
		Current: &deploy.ServiceRef{Name: "web__1", ARN: aws.ToString(out.Service.ServiceArn), Revision: 1,
			TaskDefinition: aws.ToString(out.Service.TaskDefinition), DesiredCount: n},
		HighestRevision: 1,
	}, nil
}

// rolloutEnv starts ecslocal with the given delays and task definitions, puts web__1 in
// production at 8 tasks, clears the observations, and returns an engine logging to a waitLog.
func rolloutEnv(ctx context.Context, startDelay, stopDelay time.Duration, tds ...string) (*local, deploy.State, *waitLog, *deploy.Engine, error) {
	l, err := newLocal(startDelay, stopDelay, tds...)
	if err != nil {
		return nil, deploy.State{}, nil, nil, err
	}
	st, err := l.production(ctx)
	if err != nil {
		l.hs.Close()
		return nil, deploy.State{}, nil, nil, err
	}
	l.srv.ClearObservations()
	wl := &waitLog{}
	return l, st, wl, &deploy.Engine{ECS: l.ecs, AutoScaling: l.aas, Log: wl}, nil
}

// config is the release of web:2 at 8 tasks in phases of the given percentages.
func config(percents ...int) deploy.Config {
	desired := 8
	c := deploy.Config{Cluster: "prod", Name: "web", DeploymentID: "prod/web", TaskDefinition: "web:2",
		DesiredCount: &desired, RetainOldServices: 3, SteadyStateTimeout: 5 * time.Minute}
	for _, p := range percents {
		c.Phases = append(c.Phases, deploy.Phase{Percent: p})
	}
	return c
}

// waitLog records when the engine decided each wait was done, and when it detected a failure.
type waitLog struct {
	mu       sync.Mutex
	done     []waitDone
	failedAt time.Time
}

type waitDone struct {
	at       time.Time
	services []string
}

func (w *waitLog) Info(context.Context, string, map[string]any) {}
func (w *waitLog) Warn(_ context.Context, msg string, _ map[string]any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.HasPrefix(msg, "rollout failed") && w.failedAt.IsZero() {
		w.failedAt = time.Now()
	}
}
func (w *waitLog) Debug(_ context.Context, msg string, f map[string]any) {
	if msg != "wait done" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	names, _ := f["services"].([]string)
	w.done = append(w.done, waitDone{at: time.Now(), services: names})
}

// latencies returns, for each wait, the time from the last change on ecslocal's timeline of a
// service it waited for (the moment the goal was met) to the engine's decision.
func latencies(timeline []ecslocal.TimelineEntry, waits []waitDone) []time.Duration {
	var out []time.Duration
	for _, w := range waits {
		var last time.Time
		for _, te := range timeline {
			if te.Time.After(w.at) {
				break
			}
			for _, s := range w.services {
				if te.Service == s && te.Time.After(last) {
					last = te.Time
				}
			}
		}
		if !last.IsZero() {
			out = append(out, w.at.Sub(last))
		}
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func countsLine(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	total := 0
	for k, v := range counts {
		keys = append(keys, k)
		total += v
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

func totalCalls(counts map[string]int) int {
	n := 0
	for _, v := range counts {
		n += v
	}
	return n
}

// benchRollout is the 3-phase (25/50/100) rollout of 8 tasks with 2 s starts and 0.5 s stops.
func benchRollout(ctx context.Context, rep *report) (time.Duration, error) {
	const startDelay, stopDelay = 2 * time.Second, 500 * time.Millisecond
	l, st, wl, eng, err := rolloutEnv(ctx, startDelay, stopDelay, "healthy", "healthy")
	if err != nil {
		return 0, err
	}
	defer l.hs.Close()
	t0 := time.Now()
	if _, err := eng.Deploy(ctx, config(25, 50, 100), st); err != nil {
		return 0, fmt.Errorf("3-phase rollout: %w", err)
	}
	wall := time.Since(t0)
	floor := 3 * (startDelay + stopDelay)
	counts := l.srv.CallCounts()
	lat := latencies(l.srv.Timeline(), wl.done)
	rep.add("rollout_overhead_ratio", fmt.Sprintf("%.3f", wall.Seconds()/floor.Seconds()), "≤ 1.02",
		fmt.Sprintf("wall %.2f s ÷ floor %.2f s = 3 phases × (start 2 s + stop 0.5 s)", wall.Seconds(), floor.Seconds()))
	rep.add("detect_latency_p50_ms", fmt.Sprint(median(lat).Milliseconds()), "≤ 50",
		fmt.Sprintf("median of %d waits; all: %v", len(lat), roundAll(lat)))
	rep.add("describe_calls_per_wait", fmt.Sprintf("%.2f", float64(readCalls(counts))/float64(len(wl.done))), "≤ 6",
		fmt.Sprintf("%d read calls (every Describe and List, preflight, discovery and setup included; %d of them DescribeServices) over %d waits",
			readCalls(counts), counts["ecs:DescribeServices"], len(wl.done)))
	rep.add("api_calls_per_rollout", fmt.Sprint(totalCalls(counts)), "report, then lower", countsLine(counts))
	return wall, nil
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// benchRealistic is a 2-phase rollout with ECS-like 20 s task starts.
func benchRealistic(ctx context.Context, rep *report) error {
	l, st, wl, eng, err := rolloutEnv(ctx, 20*time.Second, 500*time.Millisecond, "healthy", "healthy")
	if err != nil {
		return err
	}
	defer l.hs.Close()
	t0 := time.Now()
	if _, err := eng.Deploy(ctx, config(50, 100), st); err != nil {
		return fmt.Errorf("realistic rollout: %w", err)
	}
	counts := l.srv.CallCounts()
	rep.add("realistic_describe_calls_per_wait", fmt.Sprintf("%.2f", float64(readCalls(counts))/float64(len(wl.done))), "≤ 8",
		fmt.Sprintf("%d read calls (%d of them DescribeServices) over %d waits; wall %.1f s against a floor of 41 s",
			readCalls(counts), counts["ecs:DescribeServices"], len(wl.done), time.Since(t0).Seconds()))
	return nil
}

// benchBaseline drives the same 3 phases the way users script it today: UpdateService, then
// the SDK's ServicesStable waiter with its default options.
func benchBaseline(ctx context.Context, rep *report) (time.Duration, error) {
	l, err := newLocal(2*time.Second, 500*time.Millisecond, "healthy", "healthy")
	if err != nil {
		return 0, err
	}
	defer l.hs.Close()
	if _, err := l.production(ctx); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if _, err := l.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web__2"),
		TaskDefinition: aws.String("web:2"), DesiredCount: aws.Int32(0)}); err != nil {
		return 0, err
	}
	waiter := ecs.NewServicesStableWaiter(l.ecs)
	for _, step := range []struct{ newN, oldN int32 }{{2, 6}, {4, 4}, {8, 0}} {
		for _, s := range []struct {
			name string
			n    int32
		}{{"web__2", step.newN}, {"web__1", step.oldN}} {
			if _, err := l.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String(s.name), DesiredCount: aws.Int32(s.n)}); err != nil {
				return 0, err
			}
			if err := waiter.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{s.name}}, 10*time.Minute); err != nil {
				return 0, fmt.Errorf("baseline waiter: %w", err)
			}
		}
	}
	wall := time.Since(t0)
	rep.detail("baseline (UpdateService + ServicesStableWaiter, defaults): 3 phases in %.1f s; calls %s", wall.Seconds(), countsLine(l.srv.CallCounts()))
	return wall, nil
}

// benchRollback measures how fast the old service is back at P after a failure detected in
// phase 1, once the old service has already shrunk (the new tasks crash during the bake).
func benchRollback(ctx context.Context, rep *report, allAtOnce bool) error {
	const startDelay, stopDelay = 2 * time.Second, 500 * time.Millisecond
	l, st, wl, eng, err := rolloutEnv(ctx, startDelay, stopDelay, "healthy", "crash-after=3s")
	if err != nil {
		return err
	}
	defer l.hs.Close()
	cfg := config(25, 50, 100)
	cfg.Phases[0].BakeTime = 5 * time.Second
	cfg.FailedTaskThreshold = 1
	cfg.RollbackAllAtOnce = allAtOnce
	if _, err := eng.Deploy(ctx, cfg, st); err == nil {
		return fmt.Errorf("the crashing revision was not rolled back")
	}
	var restored time.Time
	for _, te := range l.srv.Timeline() {
		if te.Service == "web__1" && te.Time.After(wl.failedAt) && te.Running == 8 {
			restored = te.Time
			break
		}
	}
	if wl.failedAt.IsZero() || restored.IsZero() {
		return fmt.Errorf("rollback timing not found (failed at %v, restored at %v)", wl.failedAt, restored)
	}
	name, mode := "rollback_restore_ratio_per_phase", "per phase (R1 after a failure in phase 1)"
	if allAtOnce {
		name, mode = "rollback_restore_ratio_all_at_once", "all at once"
	}
	took := restored.Sub(wl.failedAt)
	rep.add(name, fmt.Sprintf("%.3f", took.Seconds()/(startDelay+stopDelay).Seconds()), "≤ 1.15",
		fmt.Sprintf("%s: old back at 8 running %.2f s after detection ÷ (start 2 s + stop 0.5 s)", mode, took.Seconds()))
	return nil
}

// benchDiscovery imports a deployment from a cluster of 5,000 services, 30 of them its own.
func benchDiscovery(ctx context.Context, rep *report) error {
	l, err := newLocal(0, 0, "healthy")
	if err != nil {
		return err
	}
	defer l.hs.Close()
	names := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range names {
				in := &ecs.CreateServiceInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(0)}
				if i < 30 {
					in.ServiceName = aws.String(fmt.Sprintf("web__%d", i+1))
					in.Tags = []types.Tag{{Key: aws.String(deploy.OwnerTag), Value: aws.String("prod/web")}}
					if i == 29 {
						in.DesiredCount = aws.Int32(2)
					}
				} else {
					in.ServiceName = aws.String(fmt.Sprintf("other-%04d", i))
				}
				if _, err := l.ecs.CreateService(ctx, in); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 5000 {
		names <- (i*7919 + 13) % 5000 // spread ours across the listing
	}
	close(names)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	l.srv.ClearObservations()
	eng := &deploy.Engine{ECS: l.ecs, AutoScaling: l.aas}
	t0 := time.Now()
	imp, err := eng.Import(ctx, "prod", "web", "prod/web")
	if err != nil {
		return err
	}
	wall := time.Since(t0)
	counts := l.srv.CallCounts()
	rep.add("discovery_calls_5000", fmt.Sprintf("ListServices=%d,DescribeServices=%d", counts["ecs:ListServices"], counts["ecs:DescribeServices"]),
		"ListServices = 50, DescribeServices ≤ 3",
		fmt.Sprintf("import found %s in %.0f ms; all calls %s", imp.Current.Name, float64(wall.Microseconds())/1000, countsLine(counts)))
	return nil
}
