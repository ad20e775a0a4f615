package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestCtrlC checks that Ctrl-C rolls back before terraform exits: SIGINT goes to terraform alone
// (as a terminal's Ctrl-C would), at 5 points of a 3-phase rollout of web:2 over web__1 at 4.
// Terraform stops the provider, whose rollback runs on a context the cancel does not reach. When
// terraform has exited: its exit code is non-zero, ecslocal already shows web__1 at 4 running tasks
// with its auto scaling back and the new service at 0 (the rollback completed before terraform
// exited), the saved state equals the prior state except last_rollout and highest_revision, and the
// deployment's running tasks never dropped below 4.
func TestCtrlC(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	var n suiteCounts
	var rolledBack atomic.Int64
	started := time.Now()
	triggers := []trigger{
		{k: 2},                  // CreateService of web__2, before its response
		{k: 3, afterRead: true}, // waiting for web__2's first task
		{k: 4},                  // phase 1: web__1 down to 3, before its response
		{k: 5, afterRead: true}, // waiting for web__2 to reach 2
		{k: 7, afterRead: true}, // waiting for web__2 to reach 4
	}
	var names []string
	for _, tr := range triggers {
		names = append(names, fmt.Sprintf("Ctrl-C %s", tr))
	}
	concurrently(t, 3, names, func(t *testing.T, i int) {
		tr := triggers[i]
		e := newEnv(t, ecslocal.Options{})
		e.seedForeign()
		w := newWorkspace(t)
		w.write(providerBlock(e.url) + fmt.Sprintf(rolloutHCL, tdHealthy1))
		w.apply()
		n.runs.Add(1)
		prior := w.stateBytes()

		w.write(providerBlock(e.url) + fmt.Sprintf(rolloutHCL, tdHealthy2))
		mark := e.timelineMark()
		var p atomic.Pointer[proc]
		fired := e.arm(tr, func(ecslocal.Call) { p.Load().interrupt() })
		p.Store(w.start("apply", "-auto-approve", "-input=false", "-no-color"))
		code, out := p.Load().wait()
		e.setHook(nil)
		n.runs.Add(1)
		if !fired.Load() {
			t.Fatalf("terraform apply ended (exit %d) before the interrupt point:\n%s", code, tail(out))
		}
		n.signals.Add(1)

		// The moment terraform has exited: what ecslocal shows now is what the rollback did
		// before terraform returned, nothing later.
		status := e.srv.Status()
		if code == 0 {
			t.Errorf("terraform apply exited 0 after Ctrl-C:\n%s", tail(out))
		}
		if !strings.Contains(out, "Interrupt received") {
			t.Errorf("terraform did not report the interrupt:\n%s", tail(out))
		}
		if !strings.Contains(out, "cancel") {
			t.Errorf("the error does not say the operation was cancelled:\n%s", tail(out))
		}
		if strings.Contains(out, "Deployment Rolled Back") {
			rolledBack.Add(1)
		}
		owned := e.owned()
		for _, s := range status.Services {
			if !owned[s.Name] || s.Status != "ACTIVE" {
				continue
			}
			if s.Name == "web__1" {
				if s.Desired != 4 || s.Running != 4 || s.Pending != 0 {
					t.Errorf("when terraform exited, web__1 was %+v, want 4 running", s)
				}
				if s.AutoScaling == nil || s.AutoScaling.Min != 2 || s.AutoScaling.Max != 8 || !reflect.DeepEqual(s.AutoScaling.Policies, []string{"cpu60"}) {
					t.Errorf("when terraform exited, web__1's auto scaling was %+v, want 2–8 with cpu60", s.AutoScaling)
				}
				continue
			}
			if s.Desired != 0 || s.Running != 0 || s.Pending != 0 || s.AutoScaling != nil {
				t.Errorf("when terraform exited, %s was %+v, want 0 tasks and no scaling", s.Name, s)
			}
		}
		if !owned["web__1"] {
			t.Errorf("web__1 is missing")
		}
		checkStateAfterInterrupt(t, prior, w.stateBytes())
		n.checks.Add(int64(e.checkCapacity(mark, 4, "web")))
		n.foreign.Add(int64(e.checkForeignUntouched()))
		if alive := p.Load().groupGone(5 * time.Second); len(alive) > 0 {
			t.Errorf("processes of terraform's group still alive after it exited: %v", alive)
		}
	})
	t.Logf("Ctrl-C: %d terraform runs, %d SIGINTs (%d ended in a reported \"Deployment Rolled Back\"; any other was cancelled while CreateService was in flight, and its service left at 0), %d capacity invariant checks on the timeline, %d foreign services checked untouched, %s",
		n.runs.Load(), n.signals.Load(), rolledBack.Load(), n.checks.Load(), n.foreign.Load(), time.Since(started).Round(time.Second))
}

// checkStateAfterInterrupt compares terraform.tfstate before and after an interrupted update:
// everything is equal but the serial, last_rollout and highest_revision; when those two moved,
// they record the rolled-back revision.
func checkStateAfterInterrupt(t *testing.T, before, after []byte) {
	t.Helper()
	var b, a map[string]any
	if err := json.Unmarshal(before, &b); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(after, &a); err != nil {
		t.Fatal(err)
	}
	attrs := func(doc map[string]any) map[string]any {
		res, _ := doc["resources"].([]any)
		if len(res) != 1 {
			t.Fatalf("state holds %d resources, want 1", len(res))
		}
		inst, _ := res[0].(map[string]any)["instances"].([]any)
		if len(inst) != 1 {
			t.Fatalf("state holds %d instances, want 1", len(inst))
		}
		m, _ := inst[0].(map[string]any)["attributes"].(map[string]any)
		return m
	}
	ba, aa := attrs(b), attrs(a)
	hrBefore, hrAfter := num(ba, "highest_revision"), num(aa, "highest_revision")
	last := obj(aa, "last_rollout")
	if hrAfter != hrBefore {
		if str(last, "status") != "rolled_back" || num(last, "revision") != hrAfter || !strings.Contains(str(last, "reason"), "cancel") {
			t.Errorf("highest_revision moved %d → %d, but last_rollout is %v", hrBefore, hrAfter, last)
		}
	} else if !reflect.DeepEqual(ba["last_rollout"], aa["last_rollout"]) {
		t.Errorf("last_rollout changed without a new revision: %v → %v", ba["last_rollout"], aa["last_rollout"])
	}
	for _, k := range []string{"last_rollout", "highest_revision"} {
		delete(ba, k)
		delete(aa, k)
	}
	// Private state holds the fingerprints, which must not change, and what was last seen live,
	// which a rolled-back update does change: the failed revision holds its name now.
	if fb, fa := privateKey(t, b, "fingerprints"), privateKey(t, a, "fingerprints"); fb != fa {
		t.Errorf("the fingerprints in private state changed after Ctrl-C: %s → %s", fb, fa)
	}
	for _, doc := range []map[string]any{b, a} {
		delete(instance(t, doc), "private")
	}
	delete(b, "serial")
	delete(a, "serial")
	if !reflect.DeepEqual(b, a) {
		bj, _ := json.MarshalIndent(b, "", "  ")
		aj, _ := json.MarshalIndent(a, "", "  ")
		t.Errorf("the state after Ctrl-C differs from the prior state beyond last_rollout and highest_revision:\nbefore %s\nafter  %s", bj, aj)
	}
}

// instance is the one resource instance of a state document.
func instance(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	res, _ := doc["resources"].([]any)
	if len(res) != 1 {
		t.Fatalf("state holds %d resources, want 1", len(res))
	}
	inst, _ := res[0].(map[string]any)["instances"].([]any)
	if len(inst) != 1 {
		t.Fatalf("state holds %d instances, want 1", len(inst))
	}
	m, _ := inst[0].(map[string]any)
	return m
}

// privateKey returns one key of the provider's private state in a state document: Terraform
// stores the private bytes base64-encoded, and the framework keeps them as a JSON object of
// base64-encoded values.
func privateKey(t *testing.T, doc map[string]any, key string) string {
	t.Helper()
	raw, _ := instance(t, doc)["private"].(string)
	if raw == "" {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		t.Fatalf("private state is not base64: %v", err)
	}
	var m map[string][]byte
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("private state is not a JSON object: %v", err)
	}
	return string(m[key])
}
