package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

const clusterARN = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"

func TestParseImportID(t *testing.T) {
	cases := []struct {
		name, id                          string
		cluster, base, deploymentID, fail string // fail: part of the error; "" means valid
	}{
		{name: "cluster and name take the default deployment ID", id: "prod/web", cluster: "prod", base: "web", deploymentID: "prod/web"},
		{name: "a third part is the deployment ID, slashes included", id: "prod/web/team/web", cluster: "prod", base: "web", deploymentID: "team/web"},
		{name: "a cluster ARN keeps its slash", id: clusterARN + "/web", cluster: clusterARN, base: "web", deploymentID: "prod/web"},
		{name: "a cluster ARN with a deployment ID", id: clusterARN + "/web/x", cluster: clusterARN, base: "web", deploymentID: "x"},
		{name: "an empty ID has no name", id: "", fail: "has no <name> after the cluster"},
		{name: "a cluster alone has no name", id: "prod", fail: "has no <name> after the cluster"},
		{name: "a cluster ARN alone has no name", id: clusterARN, fail: "has no <name> after the cluster"},
		{name: "an ARN that is not a cluster's", id: "arn:aws:ecs:us-east-1:123456789012:service/prod/web", fail: "not a cluster ARN"},
		{name: "an empty cluster", id: "/web", fail: `names the cluster "", which is not a cluster name or ARN`},
		{name: "a cluster with a space", id: "pr od/web", fail: `names the cluster "pr od"`},
		{name: "an empty name", id: "prod/", fail: `names "", which is not a valid name`},
		{name: "an empty name before a deployment ID", id: "prod//x", fail: `names "", which is not a valid name`},
		{name: "a name with a dot", id: "prod/web.app", fail: `names "web.app", which is not a valid name`},
		{name: "a name too long for its revision suffix", id: "prod/" + strings.Repeat("w", 246), fail: "which is not a valid name (1–245"},
		{name: "a trailing slash without a deployment ID", id: "prod/web/", fail: "ends with an empty deployment ID"},
		{name: "a deployment ID that is no tag value", id: "prod/web/a!b", fail: `names the deployment ID "a!b"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cluster, base, deploymentID, err := parseImportID(tc.id)
			if tc.fail == "" {
				if err != nil || cluster != tc.cluster || base != tc.base || deploymentID != tc.deploymentID {
					t.Fatalf("parseImportID(%q) = %q, %q, %q, %v; want %q, %q, %q", tc.id, cluster, base, deploymentID, err, tc.cluster, tc.base, tc.deploymentID)
				}
				return
			}
			if err == nil {
				t.Fatalf("parseImportID(%q) = %q, %q, %q; want an error", tc.id, cluster, base, deploymentID)
			}
			for _, want := range []string{tc.fail, "expected " + importIDForm, "for example prod/web"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("parseImportID(%q) error %q does not say %q", tc.id, err, want)
				}
			}
		})
	}
}

func TestAccPhasedDeployment_importErrors(t *testing.T) {
	e := newAccEnv(t)
	importStep := func(id string) resource.TestStep {
		return resource.TestStep{ResourceName: addr, ImportState: true, ImportStateId: id}
	}
	badID := importStep("prod")
	badID.ExpectError = wrapped("Invalid Import ID", `import ID "prod" has no <name> after the cluster`, "expected <cluster>/<name> or <cluster>/<name>/<deployment_id>")
	trailing := importStep("prod/web/")
	trailing.ExpectError = wrapped("Invalid Import ID", "ends with an empty deployment ID")
	foreign := importStep("prod/web/someone-else")
	foreign.ExpectError = wrapped("Unable to Import Phased Deployment", `deployment ID "someone-else"`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps:                    []resource.TestStep{{Config: e.config(webConfig("web:1", 2, ""))}, badID, trailing, foreign},
	})
}
