// Package iam holds the least-privilege IAM policy of the provider: policy.json, and the same
// actions one a line in least-privilege-actions.txt. Its test keeps both true of the code: every
// ECS and Application Auto Scaling operation that the provider calls must be allowed, and the
// two files must list the same actions.
package iam

import (
	"bufio"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// extraActions are allowed although no client method of that name is called: AWS authorizes
// them as part of a call the provider makes (Application Auto Scaling's user guide, "Permissions
// required for API actions on target services and CloudWatch"; ECS's developer guide, "Grant
// permission to tag resources on creation").
var extraActions = map[string]string{
	"ecs:TagResource":             "CreateService with tags (the ownership tags) is authorized as ecs:TagResource too",
	"cloudwatch:DescribeAlarms":   "PutScalingPolicy and DeleteScalingPolicy manage target tracking alarms as the caller (the analysis gates call it too)",
	"cloudwatch:PutMetricAlarm":   "PutScalingPolicy creates the alarms of a target tracking policy as the caller",
	"cloudwatch:DeleteAlarms":     "DeleteScalingPolicy deletes those alarms as the caller",
	"iam:CreateServiceLinkedRole": "the first RegisterScalableTarget of an account creates Application Auto Scaling's ECS service-linked role",
}

// TestActionsFileMatchesPolicy checks that least-privilege-actions.txt and policy.json list the
// same actions, each once.
func TestActionsFileMatchesPolicy(t *testing.T) {
	listed := actionsFile(t)
	inPolicy := policyActions(t)
	if !slices.Equal(sorted(listed), sorted(inPolicy)) {
		t.Errorf("least-privilege-actions.txt and policy.json differ:\n  txt:    %v\n  policy: %v", sorted(listed), sorted(inPolicy))
	}
	for a, why := range extraActions {
		if !slices.Contains(listed, a) {
			t.Errorf("%s is missing (%s)", a, why)
		}
	}
}

// TestPolicyAllowsEveryCall checks that every ECS and Application Auto Scaling operation in
// the engine's client interfaces, and every one the provider calls on the SDK clients
// directly, is in the policy; and that the policy allows nothing else without a reason.
func TestPolicyAllowsEveryCall(t *testing.T) {
	listed := actionsFile(t)
	called := map[string]bool{}
	for _, m := range methods(reflect.TypeFor[deploy.ECSAPI]()) {
		called["ecs:"+m] = true
	}
	for _, m := range methods(reflect.TypeFor[deploy.AutoScalingAPI]()) {
		called["application-autoscaling:"+m] = true
	}
	for _, m := range methods(reflect.TypeFor[deploy.ELBAPI]()) {
		called["elasticloadbalancing:"+m] = true
	}
	for _, m := range methods(reflect.TypeFor[deploy.CloudWatchAPI]()) {
		called["cloudwatch:"+m] = true
	}
	for _, a := range sourceCalls(t, filepath.Join("..", "internal", "deploy"), filepath.Join("..", "internal", "provider")) {
		called[a] = true
	}
	for a := range called {
		if !slices.Contains(listed, a) {
			t.Errorf("the provider calls %s, but least-privilege-actions.txt and policy.json do not allow it", a)
		}
	}
	for _, a := range listed {
		if !called[a] && extraActions[a] == "" {
			t.Errorf("%s is allowed, but the provider never calls it; remove it from least-privilege-actions.txt and policy.json", a)
		}
	}
}

// actionsFile reads least-privilege-actions.txt: one action a line, no blank lines, no repeats.
func actionsFile(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("least-privilege-actions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.TrimSpace(line) != line || !strings.Contains(line, ":") {
			t.Errorf("least-privilege-actions.txt:%d: want one service:Action, got %q", n, line)
			continue
		}
		if slices.Contains(out, line) {
			t.Errorf("least-privilege-actions.txt:%d: %s is listed twice", n, line)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// policyActions returns the actions that policy.json allows, each once (an action may be allowed
// by two statements under different conditions).
func policyActions(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Effect string
			Action json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("policy.json: %v", err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("policy.json: Version %q, want 2012-10-17", doc.Version)
	}
	var out []string
	for i, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("policy.json: statement %d has Effect %q; the policy only allows", i, s.Effect)
		}
		var one string
		var many []string
		switch {
		case json.Unmarshal(s.Action, &one) == nil:
			out = append(out, one)
		case json.Unmarshal(s.Action, &many) == nil:
			out = append(out, many...)
		default:
			t.Errorf("policy.json: statement %d: Action is neither a string nor a list of strings", i)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// methods lists the method names of an interface type.
func methods(it reflect.Type) []string {
	out := make([]string, 0, it.NumMethod())
	for i := range it.NumMethod() {
		out = append(out, it.Method(i).Name)
	}
	return out
}

// sourceCalls finds, in the non-test Go files of dirs, calls of methods that the ECS and
// Application Auto Scaling clients have (x.DescribeServices(…)) and paginators built over them
// (ecs.NewListServicesPaginator), and returns them as IAM actions.
func sourceCalls(t *testing.T, dirs ...string) []string {
	t.Helper()
	ecsClient := reflect.TypeFor[*ecs.Client]()
	aasClient := reflect.TypeFor[*applicationautoscaling.Client]()
	var out []string
	add := func(pkg, name string) {
		if name == "Options" {
			return
		}
		if (pkg == "" || pkg == "ecs") && hasMethod(ecsClient, name) {
			out = append(out, "ecs:"+name)
		}
		if (pkg == "" || pkg == "applicationautoscaling") && hasMethod(aasClient, name) {
			out = append(out, "application-autoscaling:"+name)
		}
	}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				name := sel.Sel.Name
				if op, ok := strings.CutPrefix(name, "New"); ok && strings.HasSuffix(op, "Paginator") {
					if pkg, ok := sel.X.(*ast.Ident); ok {
						add(pkg.Name, strings.TrimSuffix(op, "Paginator"))
					}
					return true
				}
				// e.ECS.TagResource(…) is an ECS call, e.AutoScaling.TagResource(…) would be an
				// Application Auto Scaling one: both clients have TagResource. Other receivers
				// count for every client that has the method.
				client := ""
				if inner, ok := sel.X.(*ast.SelectorExpr); ok {
					switch inner.Sel.Name {
					case "ECS":
						client = "ecs"
					case "AutoScaling":
						client = "applicationautoscaling"
					}
				}
				add(client, name)
				return true
			})
		}
	}
	return out
}

func hasMethod(typ reflect.Type, name string) bool {
	_, ok := typ.MethodByName(name)
	return ok
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
