// Package scripts holds the project's shell scripts; this test runs `make demo`'s script end to
// end, the way a newcomer would.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemo_runsEndToEnd runs scripts/demo.sh with small delays and checks what it reports: the
// canary behind the target group, the rolled-back release, the release that runs but fails its
// health checks (rolled back with the target's health quoted), the empty plan, the
// post-production rollback and a clean destroy. It needs Terraform in bin/, so it runs with the
// acceptance tests (TF_ACC=1, as `make test` sets).
func TestDemo_runsEndToEnd(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("SKIPPED: set TF_ACC=1 (make test does) to run the demo end to end with Terraform from bin/")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "terraform")); err != nil {
		t.Fatalf("bin/terraform is missing (make test builds it first): %v", err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "demo.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DEMO_START_DELAY=300ms", "DEMO_STOP_DELAY=100ms", "DEMO_PAUSE=", "TMPDIR="+t.TempDir())
	start := time.Now()
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("demo.sh failed after %s: %v\n%s", time.Since(start).Round(time.Second), err, text)
	}
	for _, want := range []string{
		"Step 1: Create",
		"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
		`planned_action        = "create" -> "deploy"`,
		"Error: Deployment Rolled Back",
		"R1: web__2 at 4 tasks, web__3 at 0",
		"in production now: web__2 at 4 tasks",
		"terraform apply exited with code 1",
		// Behind the target group: production serves 4 healthy targets.
		"HEALTHY TARGETS",
		"web:4",
		// The release whose tasks run but fail their ELB health checks: rolled back in phase 1,
		// before web__2 shrank, with the target's health quoted.
		"Step 4: Running is not serving",
		"revision 4 (web__4) failed in phase 1",
		"unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])",
		"R1: web__2 at 4 tasks, web__4 at 0",
		"No changes. Your infrastructure matches the configuration.",
		`planned_action        = "deploy" -> "rollback"`,
		"rolled back to revision 1: web__1 at 4 tasks",
		"Destroy complete! Resources: 1 destroyed.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", text)
	}
	t.Logf("demo finished in %s", time.Since(start).Round(time.Second))
}
