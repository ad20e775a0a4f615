// Package provider is the Terraform glue of the phased-ecs/ecs provider: schemas, configuration and
// the mapping between Terraform values and the AWS SDK. The deployment logic itself lives elsewhere.
package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

var _ provider.Provider = &ecsProvider{}

// New returns a constructor of the provider for providerserver.Serve and for tests; version is
// the release version, or "dev" / "test".
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &ecsProvider{version: version}
	}
}

// ecsProvider is the phased-ecs/ecs provider.
type ecsProvider struct {
	version string
}

// providerModel is the provider block as Terraform sends it. The blocks stay objects so that
// Configure can tell an absent block (null) from one that is not known yet.
type providerModel struct {
	Region                 types.String `tfsdk:"region"`
	Profile                types.String `tfsdk:"profile"`
	SharedConfigFiles      types.List   `tfsdk:"shared_config_files"`
	SharedCredentialsFiles types.List   `tfsdk:"shared_credentials_files"`
	MaxRetries             types.Int64  `tfsdk:"max_retries"`
	AssumeRole             types.Object `tfsdk:"assume_role"`
	Endpoints              types.Object `tfsdk:"endpoints"`
}

// assumeRoleModel is the assume_role block.
type assumeRoleModel struct {
	RoleARN     types.String `tfsdk:"role_arn"`
	SessionName types.String `tfsdk:"session_name"`
	ExternalID  types.String `tfsdk:"external_id"`
}

// endpointsModel is the endpoints block.
type endpointsModel struct {
	ECS                    types.String `tfsdk:"ecs"`
	ApplicationAutoscaling types.String `tfsdk:"application_autoscaling"`
	CloudWatch             types.String `tfsdk:"cloudwatch"`
	ELBv2                  types.String `tfsdk:"elbv2"`
}

// roleARNPattern accepts IAM role ARNs in every AWS partition (aws, aws-cn, aws-us-gov, …),
// including role paths such as role/service-role/deployer.
var roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

// Metadata sets the provider type name used as the prefix of every resource and data source.
func (p *ecsProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "ecs"
	resp.Version = p.version
}

// Schema describes the provider block (DESIGN.md §2).
func (p *ecsProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The `ecs` provider runs phased (canary) deployments of Amazon ECS services " +
			"inside `terraform apply`. It finds AWS credentials the way the AWS CLI does: environment " +
			"variables, shared config and credentials files, SSO, web identity, container and instance roles.",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				MarkdownDescription: "AWS Region of the ECS cluster, e.g. `eu-west-1`. When unset, the provider " +
					"uses `AWS_REGION`, `AWS_DEFAULT_REGION` or the `region` of the selected shared config profile.",
				Optional: true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
				},
			},
			"profile": schema.StringAttribute{
				MarkdownDescription: "Named profile of the shared config and credentials files to use. " +
					"When unset, `AWS_PROFILE` or the `default` profile applies.",
				Optional: true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
				},
			},
			"shared_config_files": schema.ListAttribute{
				MarkdownDescription: "Paths of shared config files to read instead of `~/.aws/config` " +
					"(or `AWS_CONFIG_FILE`). A leading `~/` means your home directory.",
				ElementType: types.StringType,
				Optional:    true,
			},
			"shared_credentials_files": schema.ListAttribute{
				MarkdownDescription: "Paths of shared credentials files to read instead of `~/.aws/credentials` " +
					"(or `AWS_SHARED_CREDENTIALS_FILE`). A leading `~/` means your home directory.",
				ElementType: types.StringType,
				Optional:    true,
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: "How many times the AWS SDK retries a failed call, throttling " +
					"(`ThrottlingException`) and transient server errors included, before the provider " +
					"reports the error. `0` turns retries off. When unset, `AWS_MAX_ATTEMPTS` applies if set, " +
					"else 25 retries. The SDK's client-side retry quota is turned off, so sustained throttling " +
					"(many deployments in one apply) is ridden out rather than failed.",
				Optional: true,
				Validators: []validator.Int64{
					int64validator.AtLeast(0),
				},
			},
		},
		Blocks: map[string]schema.Block{
			"assume_role": schema.SingleNestedBlock{
				MarkdownDescription: "An IAM role to assume, using the credentials from the standard AWS chain, " +
					"before calling ECS and Application Auto Scaling.",
				Validators: []validator.Object{
					objectvalidator.AlsoRequires(path.MatchRelative().AtName("role_arn")),
				},
				Attributes: map[string]schema.Attribute{
					"role_arn": schema.StringAttribute{
						MarkdownDescription: "ARN of the role to assume, e.g. `arn:aws:iam::123456789012:role/deployer`. " +
							"Required in an `assume_role` block.",
						// Optional here because the framework would otherwise demand it when the
						// whole block is absent; the block's AlsoRequires validator makes it required
						// whenever the block is written.
						Optional: true,
						Validators: []validator.String{
							stringvalidator.RegexMatches(roleARNPattern,
								"must be an IAM role ARN such as arn:aws:iam::123456789012:role/deployer"),
						},
					},
					"session_name": schema.StringAttribute{
						MarkdownDescription: "Session name of the assumed role, shown in CloudTrail. " +
							"When unset, the AWS SDK generates one.",
						Optional: true,
						Validators: []validator.String{
							stringvalidator.LengthBetween(2, 64),
							stringvalidator.RegexMatches(regexp.MustCompile(`^[\w+=,.@-]*$`),
								"may contain only letters, digits and the characters +=,.@_-"),
						},
					},
					"external_id": schema.StringAttribute{
						MarkdownDescription: "External ID that the role's trust policy requires, if any.",
						Optional:            true,
						Sensitive:           true,
						Validators: []validator.String{
							stringvalidator.LengthBetween(2, 1224),
						},
					},
				},
			},
			"endpoints": schema.SingleNestedBlock{
				MarkdownDescription: "Custom endpoints, e.g. `ecslocal`, LocalStack or VPC interface endpoints. " +
					"The SDK's `AWS_ENDPOINT_URL_ECS`, `AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING` and " +
					"`AWS_ENDPOINT_URL_CLOUDWATCH` and `AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2` environment variables work too; a value set here wins.",
				Attributes: map[string]schema.Attribute{
					"ecs": schema.StringAttribute{
						MarkdownDescription: "Base URL of the Amazon ECS API, e.g. `http://127.0.0.1:4599`.",
						Optional:            true,
						Validators:          []validator.String{httpURL()},
					},
					"application_autoscaling": schema.StringAttribute{
						MarkdownDescription: "Base URL of the Application Auto Scaling API, e.g. `http://127.0.0.1:4599`.",
						Optional:            true,
						Validators:          []validator.String{httpURL()},
					},
					"elbv2": schema.StringAttribute{
						MarkdownDescription: "Base URL of the Elastic Load Balancing (v2) API, which tells whether the tasks of a service behind a load balancer are healthy, e.g. `http://127.0.0.1:4599`.",
						Optional:            true,
						Validators:          []validator.String{httpURL()},
					},
					"cloudwatch": schema.StringAttribute{
						MarkdownDescription: "Base URL of the Amazon CloudWatch API, which serves the alarms and metrics of `analysis` gates, e.g. `http://127.0.0.1:4599`.",
						Optional:            true,
						Validators:          []validator.String{httpURL()},
					},
				},
			},
		},
	}
}

// Configure turns the provider block into AWS clients and hands them to resources and data sources.
func (p *ecsProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var data providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}

	cfg, diags := data.clientConfig(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	clients, err := newClients(ctx, cfg)
	if err != nil {
		addClientsError(&resp.Diagnostics, err)
		return
	}

	// Only the region and endpoints: credentials, profiles and external IDs stay out of logs.
	tflog.Debug(ctx, "configured AWS clients", map[string]any{
		"region":                           clients.Region,
		"endpoint_ecs":                     cfg.Endpoints.ECS,
		"endpoint_application_autoscaling": cfg.Endpoints.ApplicationAutoscaling,
		"endpoint_cloudwatch":              cfg.Endpoints.CloudWatch,
		"endpoint_elbv2":                   cfg.Endpoints.ELBv2,
	})

	resp.ResourceData = clients
	resp.DataSourceData = clients
}

// Resources lists the provider's resources.
func (p *ecsProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewPhasedDeploymentResource,
	}
}

// DataSources lists the provider's data sources.
func (p *ecsProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewClusterDataSource,
	}
}

// clientConfig checks that every configured value is known and converts the block to plain Go
// values. Terraform may configure a provider before values that come from other resources are
// known (e.g. during the first plan); the framework's guidance is to fail with an error that
// names the attribute rather than to guess.
func (m providerModel) clientConfig(ctx context.Context) (clientConfig, diag.Diagnostics) {
	var diags diag.Diagnostics
	var cfg clientConfig

	cfg.Region = knownString(&diags, path.Root("region"), m.Region)
	cfg.Profile = knownString(&diags, path.Root("profile"), m.Profile)
	cfg.SharedConfigFiles = knownStrings(ctx, &diags, path.Root("shared_config_files"), m.SharedConfigFiles)
	cfg.SharedCredentialsFiles = knownStrings(ctx, &diags, path.Root("shared_credentials_files"), m.SharedCredentialsFiles)

	switch {
	case m.MaxRetries.IsUnknown():
		addUnknownError(&diags, path.Root("max_retries"))
	case !m.MaxRetries.IsNull():
		retries := int(m.MaxRetries.ValueInt64())
		cfg.MaxRetries = &retries
	}

	var role assumeRoleModel
	if knownObject(ctx, &diags, path.Root("assume_role"), m.AssumeRole, &role) {
		p := path.Root("assume_role")
		cfg.AssumeRole = &assumeRoleConfig{
			RoleARN:     knownString(&diags, p.AtName("role_arn"), role.RoleARN),
			SessionName: knownString(&diags, p.AtName("session_name"), role.SessionName),
			ExternalID:  knownString(&diags, p.AtName("external_id"), role.ExternalID),
		}
	}

	var endpoints endpointsModel
	if knownObject(ctx, &diags, path.Root("endpoints"), m.Endpoints, &endpoints) {
		p := path.Root("endpoints")
		cfg.Endpoints = endpointsConfig{
			ECS:                    knownString(&diags, p.AtName("ecs"), endpoints.ECS),
			ApplicationAutoscaling: knownString(&diags, p.AtName("application_autoscaling"), endpoints.ApplicationAutoscaling),
			CloudWatch:             knownString(&diags, p.AtName("cloudwatch"), endpoints.CloudWatch),
			ELBv2:                  knownString(&diags, p.AtName("elbv2"), endpoints.ELBv2),
		}
	}

	return cfg, diags
}

// knownString returns the value of v, "" when it is null, and reports an error when it is unknown.
func knownString(diags *diag.Diagnostics, p path.Path, v types.String) string {
	if v.IsUnknown() {
		addUnknownError(diags, p)
	}
	return v.ValueString()
}

// knownStrings returns the elements of a list of strings, nil when it is null, and reports an error
// when the list or one of its elements is unknown.
func knownStrings(ctx context.Context, diags *diag.Diagnostics, p path.Path, v types.List) []string {
	if v.IsNull() {
		return nil
	}
	if v.IsUnknown() {
		addUnknownError(diags, p)
		return nil
	}
	var elems []types.String
	diags.Append(v.ElementsAs(ctx, &elems, false)...)
	out := make([]string, 0, len(elems))
	for i, e := range elems {
		out = append(out, knownString(diags, p.AtListIndex(i), e))
	}
	return out
}

// knownObject decodes a nested block into target and reports whether the block is present;
// an unknown block is reported as an error.
func knownObject(ctx context.Context, diags *diag.Diagnostics, p path.Path, v types.Object, target any) bool {
	if v.IsNull() {
		return false
	}
	if v.IsUnknown() {
		addUnknownError(diags, p)
		return false
	}
	diags.Append(v.As(ctx, target, basetypes.ObjectAsOptions{})...)
	return !diags.HasError()
}

// addUnknownError reports a provider attribute whose value is not known when Terraform configures
// the provider.
func addUnknownError(diags *diag.Diagnostics, p path.Path) {
	diags.AddAttributeError(p, "Unknown Provider Configuration Value",
		"The provider cannot create its AWS clients because the value of "+p.String()+" is not known yet. "+
			"Set it to a value known before apply, such as a literal, a variable or a data source attribute, "+
			"or leave it unset to use the AWS SDK's environment and shared configuration.")
}
