package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// The health-gated benchmarks: a rollout behind an Application Load Balancer's target group,
// where a task counts only once the target group reports it healthy (DESIGN.md §7.4).

const (
	// healthTimeScale makes AWS's durations short: the 30 s default health check interval is
	// 300 ms, the 300 s default deregistration delay 3 s.
	healthTimeScale = 0.01
	healthTG        = "web"
)

// lbEnv is ecslocal with a load balancer forwarding to target group web, and web__1 behind it
// at 8 tasks that serve.
type lbEnv struct {
	*local
	tgArn string
	state deploy.State
	tmpl  deploy.ServiceTemplate
	wl    *waitLog
	eng   *deploy.Engine
}

// newLBEnv starts ecslocal with the time scale and the target group's deregistration delay
// (nil: AWS's default of 300 s), registers web:1 and web:2 (awsvpc, port 80, healthy in the
// load balancer), puts web__1 in production behind the target group and clears the
// observations.
func newLBEnv(ctx context.Context, startDelay, stopDelay time.Duration, deregistration *int) (*lbEnv, error) {
	l := newLocalWith(ecslocal.Options{StartDelay: startDelay, StopDelay: stopDelay, TimeScale: healthTimeScale})
	seed := ecslocal.Seed{
		Clusters: []string{"prod"},
		LoadBalancers: []ecslocal.SeedLoadBalancer{{Name: "web", TargetGroups: []ecslocal.SeedTargetGroup{{
			Name: healthTG, Port: 80, TargetType: "ip", DeregistrationDelaySeconds: deregistration,
		}}}},
	}
	for range 2 {
		seed.TaskDefinitions = append(seed.TaskDefinitions, json.RawMessage(`{"family":"web","networkMode":"awsvpc",`+
			`"containerDefinitions":[{"name":"web","image":"nginx","portMappings":[{"containerPort":80}],`+
			`"dockerLabels":{"ecslocal.behavior":"healthy","ecslocal.elb-health":"healthy"}}]}`))
	}
	if err := l.srv.ApplySeed(seed); err != nil {
		l.hs.Close()
		return nil, err
	}
	arn, ok := l.srv.TargetGroupArn(healthTG)
	if !ok {
		l.hs.Close()
		return nil, fmt.Errorf("the seeded target group %s is missing", healthTG)
	}
	env := &lbEnv{local: l, tgArn: arn, wl: &waitLog{}, tmpl: deploy.ServiceTemplate{
		Network:       &deploy.NetworkConfig{Subnets: []string{"subnet-ecslocal-a", "subnet-ecslocal-b"}},
		LoadBalancers: []deploy.LoadBalancer{{TargetGroupARN: arn, ContainerName: "web", ContainerPort: 80}},
	}}
	var err error
	if env.state, err = env.production(ctx); err != nil {
		l.hs.Close()
		return nil, err
	}
	l.srv.ClearObservations()
	env.eng = &deploy.Engine{ECS: l.ecs, AutoScaling: l.aas, ELB: l.elb, Log: env.wl}
	return env, nil
}

// production creates web__1 at 8 tasks behind the target group and waits until all 8 serve.
func (env *lbEnv) production(ctx context.Context) (deploy.State, error) {
	const n = 8
	out, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web__1"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(n),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: env.tmpl.Network.Subnets,
		}},
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(env.tgArn), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}},
		Tags: []types.Tag{
			{Key: aws.String(deploy.OwnerTag), Value: aws.String("prod/web")},
			{Key: aws.String(deploy.RevisionTag), Value: aws.String("1")},
		},
	})
	if err != nil {
		return deploy.State{}, err
	}
	deadline := time.Now().Add(time.Minute)
	for !env.serving("web__1", n) {
		if time.Now().After(deadline) {
			return deploy.State{}, fmt.Errorf("web__1 does not serve %d tasks after a minute", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return deploy.State{
		Current: &deploy.ServiceRef{Name: "web__1", ARN: aws.ToString(out.Service.ServiceArn), Revision: 1,
			TaskDefinition: aws.ToString(out.Service.TaskDefinition), DesiredCount: n},
		HighestRevision: 1,
	}, nil
}

// serving tells whether a service runs n tasks, all healthy in the target group.
func (env *lbEnv) serving(name string, n int) bool {
	for _, s := range env.srv.Status().Services {
		if s.Name != name {
			continue
		}
		for _, tg := range s.TargetGroups {
			if tg.TargetGroupArn == env.tgArn {
				return s.Running == n && tg.Healthy == n
			}
		}
	}
	return false
}

// gatedRollout is one 3-phase rollout (25/50/100 % of 8) from web__1 to web__2 behind the
// target group.
type gatedRollout struct {
	wall    time.Duration
	phases  []time.Duration // from each phase's start to its end, by the engine's steps
	floor   []phaseFloor
	counts  map[string]int
	waits   int
	latency []time.Duration
}

func (g gatedRollout) phaseTotal() time.Duration {
	var t time.Duration
	for _, p := range g.phases {
		t += p
	}
	return t
}

// phaseFloor is what ecslocal needed for one phase, read from its timeline: the new tasks'
// start (the scale-up to the last of them RUNNING), their time to healthy (from RUNNING to the
// last of them healthy in the target group), and the old tasks' stop (the scale-down to the
// old service's running count at its goal).
type phaseFloor struct {
	start, healthy, stop time.Duration
}

func (f phaseFloor) total() time.Duration { return f.start + f.healthy + f.stop }

func runGatedRollout(ctx context.Context, env *lbEnv) (gatedRollout, error) {
	cfg := config(25, 50, 100)
	cfg.Service = env.tmpl
	t0 := time.Now()
	res, err := env.eng.Deploy(ctx, cfg, env.state)
	if err != nil {
		return gatedRollout{}, fmt.Errorf("health-gated rollout: %w", err)
	}
	g := gatedRollout{wall: time.Since(t0), counts: env.srv.CallCounts(), waits: len(env.wl.done)}
	timeline := env.srv.Timeline()
	g.latency = latencies(timeline, env.wl.done)
	var began time.Time
	for _, st := range res.Steps {
		switch {
		case strings.HasPrefix(st.Message, "phase ") && strings.Contains(st.Message, " done: "):
			g.phases = append(g.phases, st.At.Sub(began))
		case strings.HasPrefix(st.Message, "phase ") && strings.Contains(st.Message, " of "):
			began = st.At
		}
	}
	if len(g.phases) != 3 {
		return g, fmt.Errorf("health-gated rollout: want 3 phases in the engine's steps, found %d", len(g.phases))
	}
	for _, pc := range res.Phases {
		f, err := floorOf(timeline, env.tgArn, pc)
		if err != nil {
			return g, err
		}
		g.floor = append(g.floor, f)
	}
	return g, nil
}

// floorOf reads one phase's floor off the timeline: web__2's scale-up to n, the instant its
// running count reaches n, the instant n of its targets are healthy; then web__1's scale-down
// to its count and the instant its running count is there.
func floorOf(timeline []ecslocal.TimelineEntry, tgArn string, pc deploy.PhaseCounts) (phaseFloor, error) {
	var up, running, healthy, down, stopped time.Time
	for _, te := range timeline {
		switch {
		case te.Service == "web__2" && up.IsZero():
			if te.Desired == pc.New {
				up = te.Time
			}
		case te.Service == "web__2" && running.IsZero():
			if te.Running == pc.New {
				running = te.Time
			}
		}
		if te.Service == "web__2" && !running.IsZero() && healthy.IsZero() && te.HealthyTargets[tgArn] == pc.New {
			healthy = te.Time
		}
		if te.Service == "web__1" && !healthy.IsZero() {
			if down.IsZero() && te.Desired == pc.Old {
				down = te.Time
			}
			if !down.IsZero() && stopped.IsZero() && te.Desired == pc.Old && te.Running == pc.Old {
				stopped = te.Time
			}
		}
	}
	if up.IsZero() || running.IsZero() || healthy.IsZero() || down.IsZero() || stopped.IsZero() {
		return phaseFloor{}, fmt.Errorf("phase %d→%d: timeline incomplete (up %v, running %v, healthy %v, down %v, stopped %v)",
			pc.New, pc.Old, up, running, healthy, down, stopped)
	}
	return phaseFloor{start: running.Sub(up), healthy: healthy.Sub(running), stop: stopped.Sub(down)}, nil
}

// readCalls counts the calls that read: every Describe* and List* action.
func readCalls(counts map[string]int) int {
	n := 0
	for action, v := range counts {
		op := action[strings.Index(action, ":")+1:]
		if strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Get") {
			n += v
		}
	}
	return n
}

// benchHealthGate runs the same 3-phase rollout behind a target group twice, with AWS's default
// deregistration delay of 300 s (3 s at the time scale) and with none, and reports the first
// run's wall time over its floor and the phase times of the two runs.
func benchHealthGate(ctx context.Context, rep *report) error {
	const startDelay, stopDelay = 2 * time.Second, 500 * time.Millisecond
	var runs [2]gatedRollout
	for i, dereg := range []*int{nil, aws.Int(0)} {
		env, err := newLBEnv(ctx, startDelay, stopDelay, dereg)
		if err != nil {
			return err
		}
		runs[i], err = runGatedRollout(ctx, env)
		env.hs.Close()
		if err != nil {
			return err
		}
	}
	g, none := runs[0], runs[1]
	var floor time.Duration
	var parts []string
	for _, f := range g.floor {
		floor += f.total()
		parts = append(parts, fmt.Sprintf("(%.2f + %.2f + %.2f)", f.start.Seconds(), f.healthy.Seconds(), f.stop.Seconds()))
	}
	rep.add("health_gate_overhead_ratio", fmt.Sprintf("%.3f", g.wall.Seconds()/floor.Seconds()), "≤ 1.05",
		fmt.Sprintf("wall %.2f s ÷ floor %.2f s = Σ phases (start + time to healthy + stop) from ecslocal's timeline: %s s; "+
			"8 tasks behind an ALB target group, health check every 30 s × time scale %g = %.1f s, old tasks leave the running count as they start draining",
			g.wall.Seconds(), floor.Seconds(), strings.Join(parts, " + "), healthTimeScale, (30*time.Second).Seconds()*healthTimeScale))
	rep.add("deregistration_wait_ratio", fmt.Sprintf("%.3f", g.phaseTotal().Seconds()/none.phaseTotal().Seconds()), "≤ 1.10",
		fmt.Sprintf("phase time with a 300 s deregistration delay (%.0f s at time scale %g) %.2f s ÷ with none %.2f s; phases %v against %v",
			(300*time.Second).Seconds()*healthTimeScale, healthTimeScale, g.phaseTotal().Seconds(), none.phaseTotal().Seconds(), roundAll(g.phases), roundAll(none.phases)))
	rep.detail("health-gated rollout (300 s deregistration delay): %.2f read calls per wait (%d reads over %d waits; goal of `describe_calls_per_wait` ≤ 6), detection p50 %d ms (goal ≤ 50) of %v; calls %s",
		float64(readCalls(g.counts))/float64(g.waits), readCalls(g.counts), g.waits, median(g.latency).Milliseconds(), roundAll(g.latency), countsLine(g.counts))
	rep.detail("health-gated rollout without a deregistration delay: wall %.2f s, %.2f read calls per wait, detection p50 %d ms; calls %s",
		none.wall.Seconds(), float64(readCalls(none.counts))/float64(none.waits), median(none.latency).Milliseconds(), countsLine(none.counts))
	return nil
}
