package provider

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// registerTaskDefinition registers another revision of family web with the given
// ecslocal.behavior label through the SDK and returns it as family:revision.
func (e *accEnv) registerTaskDefinition(behavior string) string {
	e.t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"),
			DockerLabels: map[string]string{"ecslocal.behavior": behavior},
		}},
	})
	if err != nil {
		e.t.Fatalf("registering a %s task definition: %v", behavior, err)
	}
	return fmt.Sprintf("web:%d", out.TaskDefinition.Revision)
}

// ownedServices returns desired/running of every ACTIVE service carrying an ownership tag.
func (e *accEnv) ownedServices() map[string][2]int {
	out := map[string][2]int{}
	for _, s := range e.srv.Status().Services {
		if s.Status == "ACTIVE" && s.Tags["phased-deployment:id"] != "" {
			out[s.Name] = [2]int{s.Desired, s.Running}
		}
	}
	return out
}

// expectOwned is a TestCheckFunc: the ACTIVE owned services are exactly want (desired, running).
func (e *accEnv) expectOwned(want map[string][2]int) func(*terraform.State) error {
	return func(*terraform.State) error {
		if got := e.ownedServices(); !maps.Equal(got, want) {
			return fmt.Errorf("owned ACTIVE services in ecslocal = %v, want %v", got, want)
		}
		return nil
	}
}

// status returns ecslocal's report of one service, or nil when it is INACTIVE or unknown.
func (e *accEnv) status(name string) *ecslocal.ServiceStatus {
	for _, s := range e.srv.Status().Services {
		if s.Name == name {
			return &s
		}
	}
	return nil
}

// desiredChanges lists, in time order, each change of the desired count of the named services
// as "service=count", read from ecslocal's timeline.
func (e *accEnv) desiredChanges(names ...string) []string {
	last := map[string]int{}
	var out []string
	for _, en := range e.srv.Timeline() {
		if !slices.Contains(names, en.Service) {
			continue
		}
		if n, seen := last[en.Service]; seen && n == en.Desired {
			continue
		}
		last[en.Service] = en.Desired
		out = append(out, fmt.Sprintf("%s=%d", en.Service, en.Desired))
	}
	return out
}

// writesNaming returns the write calls whose resource names the service.
func (e *accEnv) writesNaming(name string) []string {
	var out []string
	for _, c := range e.srv.Calls() {
		if !c.Write {
			continue
		}
		if c.Resource == name || strings.HasSuffix(c.Resource, "/"+name) {
			out = append(out, c.Action()+" "+c.Resource)
		}
	}
	return out
}

// calls returns how often an action ("ecs:CreateService") was called.
func (e *accEnv) calls(action string) int { return e.srv.CallCounts()[action] }

// updateService changes a service behind Terraform's back.
func (e *accEnv) updateService(in *ecs.UpdateServiceInput) {
	e.t.Helper()
	in.Cluster = aws.String("prod")
	if _, err := e.ecs.UpdateService(context.Background(), in); err != nil {
		e.t.Fatalf("updating %s outside Terraform: %v", aws.ToString(in.Service), err)
	}
}

// allOf combines TestCheckFuncs.
func allOf(checks ...func(*terraform.State) error) func(*terraform.State) error {
	return func(s *terraform.State) error {
		for _, c := range checks {
			if err := c(s); err != nil {
				return err
			}
		}
		return nil
	}
}

// expectState checks attributes of the resource in state, for steps that only refresh (which
// run no ConfigStateChecks). Keys are flatmap paths such as "current.service_name".
func expectState(want map[string]string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in state", addr)
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got := rs.Primary.Attributes[k]; got != want[k] {
				return fmt.Errorf("state %s = %q, want %q", k, got, want[k])
			}
		}
		return nil
	}
}

// stateValue is statecheck.ExpectKnownValue on the resource.
func stateValue(p string, check knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(addr, attrPath(p), check)
}

// planValue is plancheck.ExpectKnownValue on the resource.
func planValue(p string, check knownvalue.Check) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(addr, attrPath(p), check)
}

// attrPath turns "current.service_name" into a tfjsonpath.
func attrPath(p string) tfjsonpath.Path {
	parts := strings.Split(p, ".")
	path := tfjsonpath.New(parts[0])
	for _, k := range parts[1:] {
		path = path.AtMapKey(k)
	}
	return path
}

// deploymentConfig is ecs_phased_deployment web in cluster prod with the given task
// definition at 4 tasks; body holds the phase blocks and any other arguments.
func deploymentConfig(td string, body string) string {
	return fmt.Sprintf(`
resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = %q
  desired_count   = 4
%s
}
`, td, body)
}

// waitRunning waits until a service runs n tasks, for setup done behind Terraform's back.
func waitRunning(t *testing.T, e *accEnv, name string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s := e.status(name); s != nil && s.Running == n && s.Pending == 0 {
			return
		}
	}
	t.Fatalf("%s did not reach %d running tasks: %+v", name, n, e.status(name))
}

// wrapped matches phrases of an error, in order, that Terraform may have wrapped across lines.
func wrapped(phrases ...string) *regexp.Regexp {
	quoted := make([]string, len(phrases))
	for i, p := range phrases {
		quoted[i] = strings.ReplaceAll(regexp.QuoteMeta(p), " ", `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, ".*"))
}
