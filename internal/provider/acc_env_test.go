package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// accEnv is an in-process ecslocal seeded for acceptance tests of ecs_phased_deployment.
type accEnv struct {
	t   *testing.T
	srv *ecslocal.Server
	url string
	ecs *ecs.Client
}

// newAccEnv starts ecslocal with short task delays, creates cluster prod and registers
// web:1 and web:2 (healthy), web:3 (crash-on-start), web:4 (healthy).
func newAccEnv(t *testing.T) *accEnv {
	t.Helper()
	isolateAWSEnv(t)
	srv := ecslocal.New(ecslocal.Options{StartDelay: 30 * time.Millisecond, StopDelay: 10 * time.Millisecond})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &accEnv{t: t, srv: srv, url: hs.URL, ecs: newTestECSClient(hs.URL)}
	td := func(label string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"family":"web","containerDefinitions":[{"name":"web","image":"nginx","dockerLabels":{"ecslocal.behavior":%q}}]}`, label))
	}
	if err := srv.ApplySeed(ecslocal.Seed{
		Clusters:        []string{"prod"},
		TaskDefinitions: []json.RawMessage{td("healthy"), td("healthy"), td("crash-on-start"), td("healthy")},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// config is the provider block plus the given resource configuration.
func (e *accEnv) config(resourceHCL string) string { return providerConfig(e.url) + resourceHCL }

// services returns desired/running of every ACTIVE service of cluster prod, by name.
func (e *accEnv) services() map[string][2]int {
	out := map[string][2]int{}
	for _, s := range e.srv.Status().Services {
		if s.Status == "ACTIVE" {
			out[s.Name] = [2]int{s.Desired, s.Running}
		}
	}
	return out
}

// checkDestroyed is a CheckDestroy: no service of the deployment is ACTIVE any more.
func (e *accEnv) checkDestroyed(_ *terraform.State) error {
	for _, s := range e.srv.Status().Services {
		if s.Status == "ACTIVE" && strings.HasPrefix(s.Name, "web__") && s.Tags["phased-deployment:id"] != "" {
			return fmt.Errorf("service %s is still ACTIVE after destroy", s.Name)
		}
	}
	return nil
}

// describe returns a service's desired and running counts through the SDK.
func (e *accEnv) describe(name string) (int, int) {
	out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{name}})
	if err != nil || len(out.Services) == 0 {
		e.t.Fatalf("describing %s: %v", name, err)
	}
	return int(out.Services[0].DesiredCount), int(out.Services[0].RunningCount)
}
