// Command ecslocal runs the local ECS and Application Auto Scaling endpoint, or prints the
// status of a running one.
//
//	ecslocal [-addr 127.0.0.1:4599] [-region us-east-1] [-seed seed.json] [-start-delay 2s] [-stop-delay 500ms] [-time-scale 1] [-throttling] [-allow actions.txt] [-consistency-lag 0s] [-fresh-account]
//	ecslocal status [-endpoint http://127.0.0.1:4599] [-cluster prod]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "status" {
		if err := status(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "ecslocal status:", err)
			os.Exit(1)
		}
		return
	}
	if err := serve(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ecslocal:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("ecslocal", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4599", "listen address (port 0 picks a free port)")
	seed := fs.String("seed", "", "JSON file of clusters and task definitions to create at start")
	startDelay := fs.Duration("start-delay", 2*time.Second, "how long a task stays PENDING")
	stopDelay := fs.Duration("stop-delay", 500*time.Millisecond, "how long a task takes to stop")
	throttling := fs.Bool("throttling", false, "apply ECS's per-operation token buckets")
	allow := fs.String("allow", "", "file listing the allowed IAM actions, one a line (default: all allowed)")
	addrFile := fs.String("addr-file", "", "write the listening address to this file once ready")
	quiet := fs.Bool("quiet", false, "do not log one line per call")
	region := fs.String("region", "us-east-1", "region of the ARNs of seeded resources and of unsigned requests")
	timeScale := fs.Float64("time-scale", 1, "multiply every AWS-defined duration (health check intervals, deregistration delays, grace periods, container health check intervals and start periods) by this factor")
	consistencyLag := fs.Duration("consistency-lag", 0, "how long new clusters and services stay invisible to DescribeClusters, ListClusters, DescribeServices and ListServices, and new clusters to CreateService, UpdateService and DeleteService, which answer ClusterNotFoundException (the ECS API's eventual consistency)")
	freshAccount := fs.Bool("fresh-account", false, "behave as an account without ECS's service-linked role: the first CreateService fails once with \"Unable to assume the service linked role\"")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *consistencyLag < 0 {
		return fmt.Errorf("-consistency-lag must not be negative, not %s", *consistencyLag)
	}
	if *timeScale <= 0 {
		return fmt.Errorf("-time-scale must be greater than 0, not %g", *timeScale)
	}
	opts := ecslocal.Options{
		StartDelay: *startDelay, StopDelay: *stopDelay, Throttling: *throttling, Region: *region, TimeScale: *timeScale,
		ConsistencyLag: *consistencyLag, FreshAccount: *freshAccount,
	}
	if !*quiet {
		opts.Logger = log.New(os.Stderr, "ecslocal ", log.LstdFlags|log.Lmicroseconds)
	}
	if *allow != "" {
		b, err := os.ReadFile(*allow)
		if err != nil {
			return err
		}
		opts.AllowedActions = []string{}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				opts.AllowedActions = append(opts.AllowedActions, line)
			}
		}
	}
	srv := ecslocal.New(opts)
	if *seed != "" {
		sd, err := ecslocal.LoadSeedFile(*seed)
		if err != nil {
			return err
		}
		if err := srv.ApplySeed(sd); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "ecslocal listening on %s (start delay %s, stop delay %s, time scale %g)\n", url, *startDelay, *stopDelay, *timeScale)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// status prints a running ecslocal's services as a table.
func status(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ecslocal status", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "http://127.0.0.1:4599", "ecslocal URL")
	clusterName := fs.String("cluster", "", "only this cluster")
	if err := fs.Parse(args); err != nil {
		return err
	}
	resp, err := http.Get(strings.TrimRight(*endpoint, "/") + ecslocal.ControlPrefix + "status")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *endpoint, resp.Status)
	}
	var rep ecslocal.StatusReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tREVISION\tTASK DEFINITION\tDESIRED\tRUNNING\tPENDING\tHEALTHY TARGETS\tAUTO SCALING\tTAGS")
	n := 0
	for _, s := range rep.Services {
		if *clusterName != "" && s.Cluster != *clusterName {
			continue
		}
		n++
		rev := s.Tags["phased-deployment:revision"]
		if rev == "" {
			rev = "-"
		}
		as := "-"
		if s.AutoScaling != nil {
			as = fmt.Sprintf("%d..%d %s", s.AutoScaling.Min, s.AutoScaling.Max, strings.Join(s.AutoScaling.Policies, ","))
		}
		name := s.Cluster + "/" + s.Name
		if s.Status != "ACTIVE" {
			name += " (" + s.Status + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", name, rev, s.TaskDefinition, s.Desired, s.Running, s.Pending, fmtTargets(s.TargetGroups), as, fmtTags(s.Tags))
	}
	if n == 0 {
		fmt.Fprintln(tw, "(no services)")
	}
	return tw.Flush()
}

// fmtTargets shows a service's healthy targets in each of its target groups: "web:2".
func fmtTargets(tgs []ecslocal.ServiceTargets) string {
	if len(tgs) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(tgs))
	for _, tg := range tgs {
		parts = append(parts, fmt.Sprintf("%s:%d", tg.Name, tg.Healthy))
	}
	return strings.Join(parts, " ")
}

func fmtTags(tags map[string]string) string {
	if len(tags) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, " ")
}
