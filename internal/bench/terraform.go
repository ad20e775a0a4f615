package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// benchTerraformPlan measures `terraform plan` over 100 ecs_phased_deployment resources: ECS
// calls per resource (a refresh should cost one DescribeServices each), wall time against
// -refresh=false, and the provider process's peak RSS.
func benchTerraformPlan(ctx context.Context, rep *report, terraform string) error {
	terraform, err := filepath.Abs(terraform)
	if err != nil {
		return err
	}
	if _, err := os.Stat(terraform); err != nil {
		return fmt.Errorf("terraform not found at %s (make bench builds it): %w", terraform, err)
	}
	dir, err := os.MkdirTemp("", "bench-plan-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	plugins := filepath.Join(dir, "plugins")
	provider := filepath.Join(plugins, "terraform-provider-ecs")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", provider, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("building the provider: %v\n%s", err, out)
	}
	l, err := newLocal(0, 0, "healthy")
	if err != nil {
		return err
	}
	defer l.hs.Close()

	var b strings.Builder
	fmt.Fprintf(&b, `terraform {
  required_providers {
    ecs = {
      source = "phased-ecs/ecs"
    }
  }
}

provider "ecs" {
  region = "eu-west-1"
  endpoints {
    ecs                     = %[1]q
    application_autoscaling = %[1]q
  }
}
`, l.url)
	for i := range 100 {
		fmt.Fprintf(&b, `
resource "ecs_phased_deployment" "s%[1]d" {
  cluster         = "prod"
  name            = "svc%[1]d"
  task_definition = "web:1"
  desired_count   = 1
}
`, i)
	}
	work := filepath.Join(dir, "tf")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(b.String()), 0o600); err != nil {
		return err
	}
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"phased-ecs/ecs\" = %q\n  }\n  direct {}\n}\n", plugins)), 0o600); err != nil {
		return err
	}
	run := func(args ...string) (time.Duration, int64, error) {
		cmd := exec.CommandContext(ctx, terraform, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
			"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_EC2_METADATA_DISABLED=true")
		var peak atomic.Int64
		stop := make(chan struct{})
		go watchRSS(provider, &peak, stop)
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		close(stop)
		if err != nil {
			return 0, 0, fmt.Errorf("terraform %s: %v\n%s", strings.Join(args, " "), err, tail(out))
		}
		return time.Since(t0), peak.Load(), nil
	}
	if _, _, err := run("apply", "-auto-approve", "-parallelism=20", "-no-color"); err != nil {
		return err
	}
	l.srv.ClearObservations()
	planWall, rss, err := run("plan", "-no-color")
	if err != nil {
		return err
	}
	counts := l.srv.CallCounts()
	noRefresh, _, err := run("plan", "-refresh=false", "-no-color")
	if err != nil {
		return err
	}
	ecsCalls, aasCalls := 0, 0
	for action, n := range counts {
		switch {
		case strings.HasPrefix(action, "ecs:"):
			ecsCalls += n
		case strings.HasPrefix(action, "application-autoscaling:"):
			aasCalls += n
		}
	}
	rep.add("refresh_calls_per_resource", fmt.Sprintf("%.2f", float64(ecsCalls)/100), "= 1",
		fmt.Sprintf("ECS calls of terraform plan over 100 resources: %s; wall %.2f s, against %.2f s with -refresh=false",
			countsLine(counts), planWall.Seconds(), noRefresh.Seconds()))
	rep.add("refresh_autoscaling_calls_per_resource", fmt.Sprintf("%.2f", float64(aasCalls)/100), "report",
		"Application Auto Scaling calls of that plan: production's scaling policies and scheduled actions, read so that a plan can warn about what a rollout would drop (DESIGN.md §5.6.4); Application Auto Scaling throttles apart from ECS")
	rep.add("provider_peak_rss_mb", fmt.Sprintf("%.1f", float64(rss)/1024), "report", "VmHWM of the provider process during that plan")
	return nil
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 3000 {
		s = s[len(s)-3000:]
	}
	return s
}

// watchRSS polls /proc for processes running binary and keeps the largest VmHWM (kB) seen.
func watchRSS(binary string, peak *atomic.Int64, stop <-chan struct{}) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
			if err != nil || exe != binary {
				continue
			}
			f, err := os.Open(filepath.Join("/proc", e.Name(), "status"))
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					if kb > peak.Load() {
						peak.Store(kb)
					}
				}
			}
			f.Close()
		}
	}
}

// writeReport writes BENCHMARKS.md: the table of figures with their goals, and the details.
func writeReport(path string, rep *report) error {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	fmt.Fprintf(&b, "Measured by `make bench` (`go run ./internal/bench`) on %s, on this project's 2-core machine, every figure in one process run against in-process ecslocal through the real aws-sdk-go-v2 clients (and real Terraform 1.5.7 for the plan figures).\n\n", time.Now().UTC().Format("2006-01-02"))
	b.WriteString("| metric | value | goal | how |\n|---|---|---|---|\n")
	for _, m := range rep.metrics {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", m.name, m.value, m.goal, strings.ReplaceAll(m.note, "|", "\\|"))
	}
	b.WriteString("\n## Floors and formulas\n\n")
	b.WriteString("- **Rollout floor**: a phase must wait for its new tasks to start and then for the old tasks to stop, so a 3-phase rollout cannot take less than 3 × (start delay + stop delay) = 3 × (2 s + 0.5 s) = 7.5 s. `rollout_overhead_ratio` = engine wall time ÷ 7.5 s.\n")
	b.WriteString("- **Detection latency**: for each wait, the time from the last change on ecslocal's timeline of a service the wait watched (the moment the goal was met, e.g. the last task reaching RUNNING) to the engine's decision.\n")
	b.WriteString("- **Rollback restore**: from the engine's detection of the failure to the instant ecslocal records the old service at P running tasks again, ÷ (start + stop delay). The failure is detected in phase 1, after the old service shrank; with a failure in phase k, per-phase rollback runs k steps by design (R_k … R_1, DESIGN.md §8) and takes about k start delays.\n")
	b.WriteString("- **Health-gate floor**: behind a target group a task counts only once it serves (DESIGN.md §7.4), so each phase must wait for the new tasks to start, then for the target group to report them healthy (one passed check: the 30 s default interval × the time scale), then for the old tasks to leave the running count. `health_gate_overhead_ratio` = engine wall time ÷ the sum of those three intervals over the 3 phases, each read off ecslocal's timeline (scale-up to the last task RUNNING, to the last target healthy; scale-down to the old count). The old tasks leave the running count as their deregistration starts, so the stop term is 0 there.\n")
	b.WriteString("- **Deregistration wait**: the same health-gated rollout with the target group's default 300 s deregistration delay (3 s at time scale 0.01) and with a delay of 0; `deregistration_wait_ratio` = the sum of the engine's phase times (from each phase's first step to its done step) of the first over the second. A ratio near 1 means the scale-down does not wait out the draining; waiting for it would add the delay to every phase.\n")
	b.WriteString("- **Read calls per wait**: `describe_calls_per_wait` and `realistic_describe_calls_per_wait` count every Describe and List call of the run (preflight, discovery, setup and health reads included) over the number of waits.\n")
	b.WriteString("- **Baseline**: the same three phases scripted as UpdateService + `ecs.NewServicesStableWaiter` with default options (it polls every 15 s at the least), measured at the same time in the same process.\n")
	b.WriteString("\n## Details\n\n")
	for _, d := range rep.details {
		b.WriteString("- " + d + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
