package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestCredentialsStayOut checks that no secret leaks: with TF_LOG=TRACE and static credentials in
// the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN), an apply (a
// create and a rolled-back deployment, so that error paths log too), a plan and a destroy must not
// print the secret key or the session token, nor save them in any file of the working directory
// (state, backups, lock info, plugin data). Everything terraform and the provider print is
// captured: TRACE sends both to stderr.
func TestCredentialsStayOut(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	started := time.Now()
	e := newEnv(t, ecslocal.Options{StartDelay: 50 * time.Millisecond, StopDelay: 20 * time.Millisecond})
	w := newWorkspace(t, "TF_LOG=TRACE")
	config := func(td string) string {
		return providerBlock(e.url) + fmt.Sprintf(`
resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = %q
  desired_count   = 2
  phase { percent = 50 }
  phase { percent = 100 }
  auto_scaling {
    min_capacity = 1
    max_capacity = 4
    target_tracking {
      name                   = "cpu60"
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
      target_value           = 60
    }
  }
  failed_task_threshold = 1
}
`, td)
	}
	var outputs []string
	run := func(wantOK bool, args ...string) {
		t.Helper()
		code, out := w.run(args...)
		outputs = append(outputs, out)
		if (code == 0) != wantOK {
			t.Fatalf("terraform %v exited %d:\n%s", args, code, tail(out))
		}
	}
	w.write(config(tdHealthy1))
	run(true, "apply", "-auto-approve", "-input=false", "-no-color")
	w.write(config(tdCrash))
	run(false, "apply", "-auto-approve", "-input=false", "-no-color") // rolled back
	run(true, "plan", "-input=false", "-no-color")
	run(true, "destroy", "-auto-approve", "-input=false", "-no-color")

	all := strings.Join(outputs, "\n")
	// The capture is real: it holds TRACE lines of terraform and of the provider, the provider
	// received the credentials (the calls were signed with the access key ID), and the rollback
	// error was printed.
	for _, want := range []string{"[TRACE]", "provider.terraform-provider-ecs", "Deployment Rolled Back"} {
		if !strings.Contains(all, want) {
			t.Errorf("the captured output lacks %q: the test would not see a leak there", want)
		}
	}
	if e.signed.Load() == 0 || e.signed.Load() != int64(len(e.providerCalls())) {
		t.Errorf("%d of the provider's %d calls were signed with %s and carried the session token", e.signed.Load(), len(e.providerCalls()), accessKeyID)
	}
	secrets := map[string]string{
		"AWS_SECRET_ACCESS_KEY":                  secretKey,
		"AWS_SESSION_TOKEN":                      sessionToken,
		"the secret key's first 16 characters":   secretKey[:16],
		"the session token's last 24 characters": sessionToken[len(sessionToken)-24:],
	}
	scanned := 0
	for what, s := range secrets {
		if i := strings.Index(all, s); i >= 0 {
			t.Errorf("%s appears in terraform's output: …%s…", what, all[max(0, i-200):min(len(all), i+len(s)+50)])
		}
	}
	scanned += len(all)
	// Every file terraform left in the working directory: state, backup, .terraform/.
	files := 0
	err := filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		scanned += len(b)
		for what, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s appears in %s", what, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "terraform.tfstate")); err != nil {
		t.Errorf("no state file was scanned: %v", err)
	}
	t.Logf("credentials: 4 terraform runs at TF_LOG=TRACE (apply, rolled-back apply, plan, destroy), %d bytes of output and %d files (%d bytes in all) searched for the secret key and session token: not found; %d API calls, all signed with %s and carrying the session token, %s",
		len(all), files, scanned, e.signed.Load(), accessKeyID, time.Since(started).Round(time.Second))
}
