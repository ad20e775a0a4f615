package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// Set by TestMain when TF_ACC is set.
var (
	repoRoot     string
	pluginsDir   string // the dev_overrides directory holding terraform-provider-ecs
	providerBin  string
	terraformBin string
)

// TestMain builds the provider binary once, the way a user's `go build` would, for every test
// of the package to run under real Terraform.
func TestMain(m *testing.M) {
	if os.Getenv("TF_ACC") == "" {
		os.Exit(m.Run())
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return 0, err
	}
	repoRoot = root
	terraformBin = os.Getenv("TF_ACC_TERRAFORM_PATH")
	if terraformBin == "" {
		terraformBin = filepath.Join(root, "bin", "terraform")
	}
	if _, err := os.Stat(terraformBin); err != nil {
		return 0, fmt.Errorf("terraform not found at %s (make test builds it into bin/): %w", terraformBin, err)
	}
	tmp, err := os.MkdirTemp("", "e2e-provider-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	pluginsDir = filepath.Join(tmp, "plugins")
	providerBin = filepath.Join(pluginsDir, "terraform-provider-ecs")
	build := exec.Command("go", "build", "-o", providerBin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("building the provider: %v\n%s", err, out)
	}
	return m.Run(), nil
}

// requireAcc skips a test unless TF_ACC is set: these tests run real Terraform.
func requireAcc(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("end-to-end tests run real terraform; set TF_ACC=1 (make test does)")
	}
}

// Task definitions every env registers, in this order (family web).
const (
	tdHealthy1 = "web:1"
	tdHealthy2 = "web:2"
	tdCrash    = "web:3" // crash-on-start
)

// env is an in-process ecslocal behind an httptest server whose handler can run a hook after
// each AWS call is served and before its response is written: the kill and interrupt points.
type env struct {
	t   *testing.T
	srv *ecslocal.Server
	url string
	ecs *ecs.Client // the test's own client, for seeding

	mu   sync.Mutex
	hook func(calls []ecslocal.Call)
	// retried holds the sequence numbers of calls that were the SDK's own retry attempts of a
	// call the provider made once (amz-sdk-request says attempt=2 or more): the SDK retries,
	// now and then, a call whose response it could not read on a connection closed under it.
	retried map[int64]bool

	// signed counts AWS requests signed with the workspace's access key ID and carrying its
	// session token: proof that the provider used the credentials a test searches for.
	signed atomic.Int64

	foreign  []string // services the deployments must never write to
	setupSeq int64    // calls up to this sequence number are the test's own seeding
}

func newEnv(t *testing.T, opts ecslocal.Options) *env {
	t.Helper()
	if opts.StartDelay == 0 {
		opts.StartDelay = 150 * time.Millisecond
	}
	if opts.StopDelay == 0 {
		opts.StopDelay = 50 * time.Millisecond
	}
	if opts.Region == "" {
		opts.Region = "eu-west-1" // the provider's region: seeded task definitions' ARNs match it
	}
	e := &env{t: t, srv: ecslocal.New(opts)}
	hs := httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(hs.Close)
	e.url = hs.URL
	e.ecs = ecs.New(ecs.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("seed", "seed", ""),
	})
	td := func(label string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"family":"web","containerDefinitions":[{"name":"web","image":"nginx","dockerLabels":{"ecslocal.behavior":%q}}]}`, label))
	}
	if err := e.srv.ApplySeed(ecslocal.Seed{
		Clusters:        []string{"prod"},
		TaskDefinitions: []json.RawMessage{td("healthy"), td("healthy"), td("crash-on-start")},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ecslocal.ControlPrefix) {
		e.srv.ServeHTTP(w, r)
		return
	}
	if strings.Contains(r.Header.Get("Authorization"), "Credential="+accessKeyID+"/") && r.Header.Get("X-Amz-Security-Token") == sessionToken {
		e.signed.Add(1)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, r)
	e.mu.Lock()
	if calls := e.srv.Calls(); sdkRetry(r) && len(calls) > 0 {
		if e.retried == nil {
			e.retried = map[int64]bool{}
		}
		e.retried[calls[len(calls)-1].Seq] = true
	}
	hook := e.hook
	e.mu.Unlock()
	if hook != nil {
		hook(e.srv.Calls())
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// sdkRetry reports whether a request is the SDK's retry of an earlier attempt.
func sdkRetry(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("amz-sdk-request"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			return v != "1"
		}
	}
	return false
}

// isRetry reports whether a call was an SDK retry attempt (env.retried).
func (e *env) isRetry(c ecslocal.Call) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.retried[c.Seq]
}

func (e *env) setHook(h func([]ecslocal.Call)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hook = h
}

// seedForeign creates services the deployments of base name "web" must leave alone, since the
// provider touches only services carrying its ownership tag (DESIGN.md §1): an untagged web__3 (a
// name a rollout would otherwise take), a web__9 tagged with another deployment ID, and an
// unrelated service. Each runs one task.
func (e *env) seedForeign() {
	e.t.Helper()
	for _, s := range []struct {
		name string
		tags []ecstypes.Tag
	}{
		{"web__3", nil},
		{"web__9", []ecstypes.Tag{{Key: aws.String(deploy.OwnerTag), Value: aws.String("other/web")}, {Key: aws.String(deploy.RevisionTag), Value: aws.String("9")}}},
		{"api", nil},
	} {
		if _, err := e.ecs.CreateService(context.Background(), &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String(s.name), TaskDefinition: aws.String(tdHealthy1),
			DesiredCount: aws.Int32(1), Tags: s.tags,
		}); err != nil {
			e.t.Fatalf("seeding foreign service %s: %v", s.name, err)
		}
		e.foreign = append(e.foreign, s.name)
	}
	e.endSetup()
}

// endSetup marks the end of the test's own calls: everything later is the provider's.
func (e *env) endSetup() {
	if calls := e.srv.Calls(); len(calls) > 0 {
		e.setupSeq = calls[len(calls)-1].Seq
	}
}

// providerCalls returns the calls made after setup.
func (e *env) providerCalls() []ecslocal.Call {
	var out []ecslocal.Call
	for _, c := range e.srv.Calls() {
		if c.Seq > e.setupSeq {
			out = append(out, c)
		}
	}
	return out
}

// resourceNames turns a call's resource (a name, an ARN, service/cluster/name, or a
// comma-separated list) into service names.
func resourceNames(res string) []string {
	var out []string
	for _, p := range strings.Split(res, ",") {
		out = append(out, p[strings.LastIndex(p, "/")+1:])
	}
	return out
}

// checkForeignUntouched asserts that no write call after setup names a foreign service, and
// returns how many foreign services it checked.
func (e *env) checkForeignUntouched() int {
	e.t.Helper()
	for _, c := range e.providerCalls() {
		if !c.Write {
			continue
		}
		for _, n := range resourceNames(c.Resource) {
			if slices.Contains(e.foreign, n) {
				e.t.Errorf("the provider wrote to foreign service %s: %s %s", n, c.Action(), c.Resource)
			}
		}
	}
	for _, name := range e.foreign {
		s := e.status(name)
		if s == nil || s.Status != "ACTIVE" || s.Desired != 1 {
			e.t.Errorf("foreign service %s changed: %+v", name, s)
		}
	}
	return len(e.foreign)
}

// owned lists the services the provider created (every CreateService it made that succeeded).
func (e *env) owned() map[string]bool {
	out := map[string]bool{}
	for _, c := range e.providerCalls() {
		if c.Operation == "CreateService" && c.ErrorCode == "" {
			out[c.Resource] = true
		}
	}
	return out
}

func (e *env) status(name string) *ecslocal.ServiceStatus {
	for _, s := range e.srv.Status().Services {
		if s.Name == name {
			return &s
		}
	}
	return nil
}

// timelineMark is the number of timeline entries so far: a later check looks only after it.
func (e *env) timelineMark() int { return len(e.srv.Timeline()) }

// checkCapacity asserts the capacity invariant on ecslocal's timeline from entry from on: the
// running tasks of the deployment's services (old and new revisions, every service the
// provider created, identified by prefix base+"__") never drop below floor. It replays the
// whole timeline so that counts at from are known, and returns how many entries it checked.
// Tasks of a failing revision never reach RUNNING here (crash-on-start), so no credit is given
// for failures: the check is strict.
func (e *env) checkCapacity(from, floor int, base string) int {
	e.t.Helper()
	owned := e.owned()
	running := map[string]int{}
	checks := 0
	for i, te := range e.srv.Timeline() {
		if !owned[te.Service] || !strings.HasPrefix(te.Service, base+"__") {
			continue
		}
		running[te.Service] = te.Running
		if i < from {
			continue
		}
		checks++
		total := 0
		for _, n := range running {
			total += n
		}
		if total < floor {
			e.t.Errorf("capacity of %s dipped to %d running tasks (< %d) at %s: %v", base, total, floor, te.Time.Format("15:04:05.000"), running)
			return checks
		}
	}
	return checks
}

// workspace is a Terraform working directory with its own CLI config.
type workspace struct {
	t   *testing.T
	dir string
	env []string
}

// secretKey and sessionToken are the static credentials every run gets; TestCredentialsStayOut
// searches for them in everything Terraform and the provider print and save.
const (
	accessKeyID  = "AKIAE2ETESTKEY"
	secretKey    = "e2eSecretKey/Zq7XwV3mN9pLk2Rt8YbHc4Fd6Gs" // 40 characters
	sessionToken = "IQoJb3JpZ2luX2VjE2ETokenE2ETokenFwoGZXIvYXdzE2EtokenVeryDistinctive9f8e7d6c5b4a"
)

func newWorkspace(t *testing.T, extraEnv ...string) *workspace {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"phased-ecs/ecs\" = %q\n  }\n  direct {}\n}\n", pluginsDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "tf")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	var base []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "TF_") || k == "CHECKPOINT_DISABLE" {
			continue
		}
		base = append(base, kv)
	}
	base = append(base,
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"AWS_ACCESS_KEY_ID="+accessKeyID, "AWS_SECRET_ACCESS_KEY="+secretKey, "AWS_SESSION_TOKEN="+sessionToken,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "aws-credentials"),
	)
	return &workspace{t: t, dir: work, env: append(base, extraEnv...)}
}

// providerBlock is the provider configuration for ecslocal at url, which serves Elastic Load
// Balancing too.
func providerBlock(url string) string {
	return fmt.Sprintf(`terraform {
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
    elbv2                   = %[1]q
  }
}
`, url)
}

func (w *workspace) write(hcl string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(hcl), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// syncBuffer collects a process's output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running terraform command, in a process group of its own so that a kill of the
// group reaches the provider plugin that terraform starts.
type proc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
	code   int
	cancel context.CancelFunc
	start  time.Time
}

const runTimeout = 3 * time.Minute

func (w *workspace) start(args ...string) *proc {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	cmd := exec.CommandContext(ctx, terraformBin, args...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	p := &proc{cmd: cmd, out: out, done: make(chan struct{}), cancel: cancel, start: time.Now()}
	if err := cmd.Start(); err != nil {
		cancel()
		w.t.Fatalf("starting terraform %v: %v", args, err)
	}
	go func() {
		defer close(p.done)
		defer cancel()
		err := cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		if err != nil && p.code == 0 {
			p.code = -1
		}
	}()
	w.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// wait returns the exit code (-1 for a killed process) and the combined output.
func (p *proc) wait() (int, string) {
	<-p.done
	return p.code, p.out.String()
}

// killGroup SIGKILLs terraform and every process of its group: the provider plugin included.
func (p *proc) killGroup() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }

// interrupt sends SIGINT to terraform alone, as a terminal's Ctrl-C would to the foreground
// process; Terraform itself tells the provider to stop.
func (p *proc) interrupt() { _ = p.cmd.Process.Signal(os.Interrupt) }

// groupGone waits until no live (non-zombie) process is left in the group.
func (p *proc) groupGone(timeout time.Duration) []int {
	pgid := p.cmd.Process.Pid
	deadline := time.Now().Add(timeout)
	for {
		var alive []int
		entries, _ := os.ReadDir("/proc")
		for _, en := range entries {
			pid, err := strconv.Atoi(en.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", en.Name(), "stat"))
			if err != nil {
				continue
			}
			// pid (comm) state ppid pgrp ...
			s := string(b)
			fields := strings.Fields(s[strings.LastIndex(s, ")")+1:])
			if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
				continue
			}
			if g, _ := strconv.Atoi(fields[2]); g == pgid {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// concurrently runs one subtest per name, up to limit at a time, each in its own goroutine
// (t.Run may be called from several goroutines), and returns when all are done. Subtests wait
// mostly on terraform's start-up and ecslocal's task delays, so running more of them than
// go test's -parallel (GOMAXPROCS) keeps the suite's wall time down.
func concurrently(t *testing.T, limit int, names []string, fn func(t *testing.T, i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(name, func(t *testing.T) { fn(t, i) })
		}()
	}
	wg.Wait()
}

// run runs terraform to the end.
func (w *workspace) run(args ...string) (int, string) {
	w.t.Helper()
	return w.start(args...).wait()
}

// apply runs `terraform apply` and fails the test unless it succeeds.
func (w *workspace) apply(args ...string) string {
	w.t.Helper()
	code, out := w.run(append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, args...)...)
	if code != 0 {
		w.t.Fatalf("terraform apply %v exited %d:\n%s", args, code, tail(out))
	}
	return out
}

// planEmpty asserts that `terraform plan` finds nothing to change.
func (w *workspace) planEmpty() {
	w.t.Helper()
	code, out := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if code != 0 {
		w.t.Errorf("terraform plan after convergence exited %d (want 0, no changes):\n%s", code, tail(out))
	}
}

func tail(s string) string {
	if len(s) > 6000 {
		return "…" + s[len(s)-6000:]
	}
	return s
}

// tfState is the part of terraform.tfstate the tests read.
type tfState struct {
	Serial    int    `json:"serial"`
	Lineage   string `json:"lineage"`
	Resources []struct {
		Type      string `json:"type"`
		Name      string `json:"name"`
		Instances []struct {
			Status     string         `json:"status"`
			Attributes map[string]any `json:"attributes"`
			Private    string         `json:"private"`
		} `json:"instances"`
	} `json:"resources"`
}

func (w *workspace) stateBytes() []byte {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

func (w *workspace) state() tfState {
	w.t.Helper()
	var st tfState
	if err := json.Unmarshal(w.stateBytes(), &st); err != nil {
		w.t.Fatal(err)
	}
	return st
}

// attrs returns the attributes of resource ecs_phased_deployment.<name>.
func (st tfState) attrs(name string) map[string]any {
	for _, r := range st.Resources {
		if r.Type == "ecs_phased_deployment" && r.Name == name && len(r.Instances) == 1 {
			return r.Instances[0].Attributes
		}
	}
	return nil
}

// obj returns a nested object attribute.
func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

func num(m map[string]any, key string) int {
	f, _ := m[key].(float64)
	return int(f)
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}
