package provider

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// testAccProtoV6ProviderFactories serves the provider in-process to the Terraform CLI that
// acceptance tests run, so no registry is ever contacted.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"ecs": providerserver.NewProtocol6WithError(New("test")()),
}

// isolateAWSEnv keeps the developer's own AWS setup out of a test: static dummy credentials, no
// shared files, no profile, region or endpoint from the environment, and no instance metadata.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, name := range []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECS",
		"AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
	} {
		t.Setenv(name, "")
	}
}

// startEcslocal serves an in-process ecslocal and returns its URL.
func startEcslocal(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ecslocal.New(ecslocal.Options{}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newTestECSClient returns an ECS client for seeding ecslocal, independent of the provider.
func newTestECSClient(url string) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// providerConfig returns a provider block that points every endpoint at url: ecslocal serves
// ECS, Application Auto Scaling and Elastic Load Balancing v2 on one address.
func providerConfig(url string) string {
	return fmt.Sprintf(`
provider "ecs" {
  region = "us-east-1"
  endpoints {
    ecs                     = %[1]q
    application_autoscaling = %[1]q
    elbv2                   = %[1]q
    cloudwatch              = %[1]q
  }
}
`, url)
}

func TestNewClients(t *testing.T) {
	retries := func(n int) *int { return &n }

	cases := []struct {
		name                string
		env                 map[string]string
		cfg                 clientConfig
		wantRegion          string
		wantECSEndpoint     string
		wantScalingEndpoint string
		wantMaxAttempts     int
		wantAssumeRoleCred  bool
	}{
		{
			name:       "region from the configuration and no endpoints keep the SDK defaults",
			cfg:        clientConfig{Region: "eu-west-1"},
			wantRegion: "eu-west-1",
		},
		{
			name:       "region from AWS_REGION when the configuration has none",
			env:        map[string]string{"AWS_REGION": "ap-southeast-2"},
			wantRegion: "ap-southeast-2",
		},
		{
			name: "configured endpoints become the clients' base endpoints",
			cfg: clientConfig{Region: "us-east-1", Endpoints: endpointsConfig{
				ECS:                    "http://127.0.0.1:4599",
				ApplicationAutoscaling: "http://127.0.0.1:4600",
			}},
			wantRegion:          "us-east-1",
			wantECSEndpoint:     "http://127.0.0.1:4599",
			wantScalingEndpoint: "http://127.0.0.1:4600",
		},
		{
			name:            "AWS_ENDPOINT_URL_ECS still applies when the configuration sets no endpoint",
			env:             map[string]string{"AWS_ENDPOINT_URL_ECS": "http://127.0.0.1:4700"},
			cfg:             clientConfig{Region: "us-east-1"},
			wantRegion:      "us-east-1",
			wantECSEndpoint: "http://127.0.0.1:4700",
		},
		{
			name:            "a configured endpoint wins over AWS_ENDPOINT_URL_ECS",
			env:             map[string]string{"AWS_ENDPOINT_URL_ECS": "http://127.0.0.1:4700"},
			cfg:             clientConfig{Region: "us-east-1", Endpoints: endpointsConfig{ECS: "http://127.0.0.1:4599"}},
			wantRegion:      "us-east-1",
			wantECSEndpoint: "http://127.0.0.1:4599",
		},
		{
			name:            "max_retries 25 allows 26 attempts",
			cfg:             clientConfig{Region: "us-east-1", MaxRetries: retries(25)},
			wantRegion:      "us-east-1",
			wantMaxAttempts: 26,
		},
		{
			name:            "without max_retries, AWS_MAX_ATTEMPTS applies",
			env:             map[string]string{"AWS_MAX_ATTEMPTS": "7"},
			cfg:             clientConfig{Region: "us-east-1"},
			wantRegion:      "us-east-1",
			wantMaxAttempts: 7,
		},
		{
			name:            "max_retries 0 allows a single attempt",
			cfg:             clientConfig{Region: "us-east-1", MaxRetries: retries(0)},
			wantRegion:      "us-east-1",
			wantMaxAttempts: 1,
		},
		{
			name: "assume_role wraps the credentials in an assume-role provider",
			cfg: clientConfig{Region: "us-east-1", AssumeRole: &assumeRoleConfig{
				RoleARN: "arn:aws:iam::123456789012:role/deployer", SessionName: "terraform", ExternalID: "x-1",
			}},
			wantRegion:         "us-east-1",
			wantAssumeRoleCred: true,
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWSEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}

			clients, err := newClients(t.Context(), tc.cfg)
			if err != nil {
				t.Fatalf("newClients: %v", err)
			}

			if clients.Region != tc.wantRegion {
				t.Errorf("Region = %q, want %q", clients.Region, tc.wantRegion)
			}
			ecsOpts := clients.ECS.Options()
			if got := aws.ToString(ecsOpts.BaseEndpoint); got != tc.wantECSEndpoint {
				t.Errorf("ECS BaseEndpoint = %q, want %q", got, tc.wantECSEndpoint)
			}
			if got := aws.ToString(clients.AutoScaling.Options().BaseEndpoint); got != tc.wantScalingEndpoint {
				t.Errorf("AutoScaling BaseEndpoint = %q, want %q", got, tc.wantScalingEndpoint)
			}
			if tc.wantMaxAttempts == 0 {
				// Cases that configure no retries get the provider's default.
				tc.wantMaxAttempts = DefaultMaxRetries + 1
			}
			{
				if got := ecsOpts.Retryer.MaxAttempts(); got != tc.wantMaxAttempts {
					t.Errorf("ECS Retryer.MaxAttempts() = %d, want %d", got, tc.wantMaxAttempts)
				}
				if got := clients.AutoScaling.Options().Retryer.MaxAttempts(); got != tc.wantMaxAttempts {
					t.Errorf("AutoScaling Retryer.MaxAttempts() = %d, want %d", got, tc.wantMaxAttempts)
				}
			}
			assumed := aws.IsCredentialsProvider(ecsOpts.Credentials, (*stscreds.AssumeRoleProvider)(nil))
			if assumed != tc.wantAssumeRoleCred {
				t.Errorf("ECS credentials assume a role = %v, want %v", assumed, tc.wantAssumeRoleCred)
			}
		})
	}
}

func TestNewClients_readsTheProfileFromSharedConfigFiles(t *testing.T) {
	isolateAWSEnv(t)
	dir := t.TempDir()
	configFile := filepath.Join(dir, "config")
	err := os.WriteFile(configFile, []byte("[profile prod]\nregion = eu-central-1\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}

	clients, err := newClients(t.Context(), clientConfig{Profile: "prod", SharedConfigFiles: []string{configFile}})
	if err != nil {
		t.Fatalf("newClients: %v", err)
	}
	if clients.Region != "eu-central-1" {
		t.Errorf("Region = %q, want the profile's eu-central-1", clients.Region)
	}
}

func TestNewClients_reportsAnUnknownProfileAsALoadError(t *testing.T) {
	isolateAWSEnv(t)

	_, err := newClients(t.Context(), clientConfig{Region: "us-east-1", Profile: "nope"})
	var loadErr *loadConfigError
	if !errors.As(err, &loadErr) {
		t.Fatalf("newClients error = %v, want a *loadConfigError", err)
	}
}

func TestNewClients_reportsAMissingRegion(t *testing.T) {
	isolateAWSEnv(t)

	_, err := newClients(t.Context(), clientConfig{})
	if !errors.Is(err, errNoRegion) {
		t.Fatalf("newClients error = %v, want errNoRegion", err)
	}
}

func TestNewClients_expandsTheHomeDirectoryInFileNames(t *testing.T) {
	isolateAWSEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	err := os.WriteFile(filepath.Join(home, "aws-config"), []byte("[default]\nregion = sa-east-1\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}

	clients, err := newClients(t.Context(), clientConfig{SharedConfigFiles: []string{"~/aws-config"}})
	if err != nil {
		t.Fatalf("newClients: %v", err)
	}
	if clients.Region != "sa-east-1" {
		t.Errorf("Region = %q, want sa-east-1 from ~/aws-config", clients.Region)
	}
}

func TestProvider_schemaIsValid(t *testing.T) {
	var resp fwprovider.SchemaResponse
	New("test")().Schema(t.Context(), fwprovider.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Schema diagnostics: %v", resp.Diagnostics)
	}
	if diags := resp.Schema.ValidateImplementation(t.Context()); diags.HasError() {
		t.Fatalf("Schema.ValidateImplementation: %v", diags)
	}
}

func TestProvider_unknownValuesAreErrorsNamingTheAttribute(t *testing.T) {
	endpointTypes := map[string]attr.Type{
		"ecs": types.StringType, "application_autoscaling": types.StringType, "cloudwatch": types.StringType, "elbv2": types.StringType,
	}
	roleTypes := map[string]attr.Type{
		"role_arn": types.StringType, "session_name": types.StringType, "external_id": types.StringType,
	}

	cases := []struct {
		name     string
		model    providerModel
		wantPath path.Path
	}{
		{
			name:     "an unknown region",
			model:    nullModel(roleTypes, endpointTypes).with(func(m *providerModel) { m.Region = types.StringUnknown() }),
			wantPath: path.Root("region"),
		},
		{
			name: "an unknown element of shared_config_files",
			model: nullModel(roleTypes, endpointTypes).with(func(m *providerModel) {
				m.SharedConfigFiles = types.ListValueMust(types.StringType, []attr.Value{types.StringValue("a"), types.StringUnknown()})
			}),
			wantPath: path.Root("shared_config_files").AtListIndex(1),
		},
		{
			name:     "an unknown max_retries",
			model:    nullModel(roleTypes, endpointTypes).with(func(m *providerModel) { m.MaxRetries = types.Int64Unknown() }),
			wantPath: path.Root("max_retries"),
		},
		{
			name: "an unknown role ARN",
			model: nullModel(roleTypes, endpointTypes).with(func(m *providerModel) {
				m.AssumeRole = types.ObjectValueMust(roleTypes, map[string]attr.Value{
					"role_arn": types.StringUnknown(), "session_name": types.StringNull(), "external_id": types.StringNull(),
				})
			}),
			wantPath: path.Root("assume_role").AtName("role_arn"),
		},
		{
			name: "an unknown ECS endpoint",
			model: nullModel(roleTypes, endpointTypes).with(func(m *providerModel) {
				m.Endpoints = types.ObjectValueMust(endpointTypes, map[string]attr.Value{
					"ecs": types.StringUnknown(), "application_autoscaling": types.StringNull(), "cloudwatch": types.StringNull(), "elbv2": types.StringNull(),
				})
			}),
			wantPath: path.Root("endpoints").AtName("ecs"),
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := tc.model.clientConfig(t.Context())
			if diags.ErrorsCount() != 1 {
				t.Fatalf("got %d errors, want 1: %v", diags.ErrorsCount(), diags)
			}
			withPath, ok := diags.Errors()[0].(interface{ Path() path.Path })
			if !ok || !withPath.Path().Equal(tc.wantPath) {
				t.Fatalf("error %v does not name %s", diags.Errors()[0], tc.wantPath)
			}
		})
	}
}

func TestProvider_endpointURLValidation(t *testing.T) {
	cases := []struct {
		value   string
		wantErr bool
	}{
		{value: "http://127.0.0.1:4599"},
		{value: "https://ecs.eu-west-1.amazonaws.com"},
		{value: "https://vpce-1a2b.ecs.eu-west-1.vpce.amazonaws.com/"},
		{value: "127.0.0.1:4599", wantErr: true},
		{value: "ftp://example.com", wantErr: true},
		{value: "http://", wantErr: true},
		{value: "not a url", wantErr: true},
	}

	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			req := validator.StringRequest{Path: path.Root("endpoints").AtName("ecs"), ConfigValue: types.StringValue(tc.value)}
			var resp validator.StringResponse
			httpURL().ValidateString(t.Context(), req, &resp)
			if got := resp.Diagnostics.HasError(); got != tc.wantErr {
				t.Fatalf("error = %v, want %v: %v", got, tc.wantErr, resp.Diagnostics)
			}
		})
	}
}

func TestProvider_roleARNPattern(t *testing.T) {
	for arn, want := range map[string]bool{
		"arn:aws:iam::123456789012:role/deployer":              true,
		"arn:aws:iam::123456789012:role/service-role/deployer": true,
		"arn:aws-us-gov:iam::123456789012:role/deployer":       true,
		"arn:aws:iam::123456789012:user/deployer":              false,
		"arn:aws:iam::1234:role/deployer":                      false,
		"deployer":                                             false,
	} {
		if got := roleARNPattern.MatchString(arn); got != want {
			t.Errorf("roleARNPattern.MatchString(%q) = %v, want %v", arn, got, want)
		}
	}
}

func TestAccProvider_configuresAgainstEcslocal(t *testing.T) {
	isolateAWSEnv(t)
	url := startEcslocal(t)
	var clusterARN string

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					out, err := newTestECSClient(url).CreateCluster(t.Context(), &ecs.CreateClusterInput{
						ClusterName: aws.String("prod"),
					})
					if err != nil {
						t.Fatalf("seeding cluster prod: %v", err)
					}
					clusterARN = aws.ToString(out.Cluster.ClusterArn)
				},
				Config: providerConfig(url) + `
data "ecs_cluster" "c" {
  name = "prod"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.ecs_cluster.c", tfjsonpath.New("arn"),
						knownvalue.StringFunc(func(v string) error {
							if clusterARN == "" || v != clusterARN {
								return fmt.Errorf("arn %q, want %q from CreateCluster", v, clusterARN)
							}
							return nil
						})),
					statecheck.ExpectKnownValue("data.ecs_cluster.c", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue("data.ecs_cluster.c", tfjsonpath.New("active_services_count"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue("data.ecs_cluster.c", tfjsonpath.New("running_tasks_count"), knownvalue.Int64Exact(0)),
				},
			},
		},
	})
}

func TestAccClusterDataSource_missingClusterIsAnError(t *testing.T) {
	isolateAWSEnv(t)
	url := startEcslocal(t)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: providerConfig(url) + `
data "ecs_cluster" "c" {
  name = "does-not-exist"
}
`,
				ExpectError: regexp.MustCompile(`Cluster Not Found`),
			},
		},
	})
}

func TestAccProvider_rejectsInvalidConfiguration(t *testing.T) {
	isolateAWSEnv(t)

	cases := map[string]struct {
		block   string
		wantErr string
	}{
		"an endpoint that is not an http URL": {
			block:   `endpoints { ecs = "127.0.0.1:4599" }`,
			wantErr: `Invalid Endpoint URL`,
		},
		"a negative max_retries": {
			block:   `max_retries = -1`,
			wantErr: `max_retries`,
		},
		"an assume_role block without role_arn": {
			block:   `assume_role { session_name = "terraform" }`,
			wantErr: `role_arn`,
		},
		"a role_arn that is not a role ARN": {
			block:   `assume_role { role_arn = "deployer" }`,
			wantErr: `must be an IAM role ARN`,
		},
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: fmt.Sprintf(`
provider "ecs" {
  region = "us-east-1"
  %s
}

data "ecs_cluster" "c" {
  name = "prod"
}
`, tc.block),
						ExpectError: regexp.MustCompile(regexp.QuoteMeta(tc.wantErr)),
					},
				},
			})
		})
	}
}

// nullModel returns a provider block with every attribute null (the block written empty).
func nullModel(roleTypes, endpointTypes map[string]attr.Type) providerModel {
	return providerModel{
		Region:                 types.StringNull(),
		Profile:                types.StringNull(),
		SharedConfigFiles:      types.ListNull(types.StringType),
		SharedCredentialsFiles: types.ListNull(types.StringType),
		MaxRetries:             types.Int64Null(),
		AssumeRole:             types.ObjectNull(roleTypes),
		Endpoints:              types.ObjectNull(endpointTypes),
	}
}

// with returns a copy of m changed by edit.
func (m providerModel) with(edit func(*providerModel)) providerModel {
	edit(&m)
	return m
}
