package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
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
	// cw is the test's own CloudWatch client, on the operator endpoint like ecs.
	cw *cloudwatch.Client
}

// newAccEnv starts ecslocal with short task delays, creates cluster prod and registers
// web:1 and web:2 (healthy), web:3 (crash-on-start), web:4 (healthy). ecslocal allows exactly
// the IAM actions of iam/least-privilege-actions.txt, the documented least-privilege policy, so
// every acceptance test that uses this env runs under it and fails on any action the documented
// policy lacks. The test's own calls (ApplySeed, the Go API, and e.ecs on an operator endpoint of
// its own) are not the provider's and are not gated.
func newAccEnv(t *testing.T) *accEnv {
	t.Helper()
	isolateAWSEnv(t)
	policy, err := os.ReadFile(filepath.Join("..", "..", "iam", "least-privilege-actions.txt"))
	if err != nil {
		t.Fatalf("reading the least-privilege action list: %v", err)
	}
	allowed := []string{}
	for _, line := range strings.Split(string(policy), "\n") {
		if a := strings.TrimSpace(line); a != "" {
			allowed = append(allowed, a)
		}
	}
	srv := ecslocal.New(ecslocal.Options{StartDelay: 30 * time.Millisecond, StopDelay: 10 * time.Millisecond, AllowedActions: allowed})
	// The provider's endpoint applies the allow-list. The test's own client (e.ecs: seeding
	// task definitions and foreign services, simulating drift) stands for an operator with
	// other credentials: its endpoint lifts the allow-list for the length of each of its calls,
	// while no call of the provider is in flight.
	var gate sync.RWMutex
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gate.RLock()
		defer gate.RUnlock()
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	operator := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gate.Lock()
		defer gate.Unlock()
		srv.SetAllowedActions(nil)
		defer srv.SetAllowedActions(allowed)
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(operator.Close)
	e := &accEnv{t: t, srv: srv, url: hs.URL, ecs: newTestECSClient(operator.URL), cw: cloudwatch.New(cloudwatch.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(operator.URL), Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})}
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

// config is the provider block (every endpoint on ecslocal, CloudWatch included) plus the
// given resource configuration.
func (e *accEnv) config(resourceHCL string) string {
	return providerConfig(e.url) + resourceHCL
}

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
