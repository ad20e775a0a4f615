package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

var (
	_ datasource.DataSource              = &clusterDataSource{}
	_ datasource.DataSourceWithConfigure = &clusterDataSource{}
)

// NewClusterDataSource returns the ecs_cluster data source.
func NewClusterDataSource() datasource.DataSource {
	return &clusterDataSource{}
}

// clusterDataSource reads one ECS cluster.
type clusterDataSource struct {
	clients *Clients
}

// clusterDataSourceModel is the ecs_cluster data source's configuration and result.
type clusterDataSourceModel struct {
	Name                types.String `tfsdk:"name"`
	ARN                 types.String `tfsdk:"arn"`
	Status              types.String `tfsdk:"status"`
	ActiveServicesCount types.Int64  `tfsdk:"active_services_count"`
	RunningTasksCount   types.Int64  `tfsdk:"running_tasks_count"`
	PendingTasksCount   types.Int64  `tfsdk:"pending_tasks_count"`
}

// Metadata names the data source ecs_cluster.
func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

// Schema describes the ecs_cluster data source.
func (d *clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads an existing Amazon ECS cluster, e.g. to check that it exists and is `ACTIVE` " +
			"before deploying to it, or to pass its ARN on.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "Name or ARN of the cluster.",
				Required:            true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
				},
			},
			"arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the cluster.",
				Computed:            true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "Status of the cluster: `ACTIVE`, `PROVISIONING`, `DEPROVISIONING`, " +
					"`FAILED` or `INACTIVE`. Services can be deployed only to an `ACTIVE` cluster.",
				Computed: true,
			},
			"active_services_count": schema.Int64Attribute{
				MarkdownDescription: "Number of services in the cluster that are `ACTIVE`.",
				Computed:            true,
			},
			"running_tasks_count": schema.Int64Attribute{
				MarkdownDescription: "Number of tasks in the cluster that are `RUNNING`.",
				Computed:            true,
			},
			"pending_tasks_count": schema.Int64Attribute{
				MarkdownDescription: "Number of tasks in the cluster that are `PENDING`.",
				Computed:            true,
			},
		},
	}
}

// Configure keeps the provider's AWS clients. ProviderData is nil when Terraform validates the
// configuration before the provider is configured.
func (d *clusterDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	clients, ok := req.ProviderData.(*Clients)
	if !ok {
		resp.Diagnostics.AddError("Unexpected Provider Data",
			fmt.Sprintf("The data source expected *provider.Clients, got %T. This is a bug in the provider; please report it.", req.ProviderData))
		return
	}
	d.clients = clients
}

// Read describes the cluster and fills the computed attributes.
func (d *clusterDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var data clusterDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}

	name := data.Name.ValueString()
	tflog.Debug(ctx, "calling ECS DescribeClusters", map[string]any{"cluster": name})
	cluster, err := deploy.FindCluster(ctx, d.clients.ECS, name)
	switch {
	case deploy.IsNotFound(err):
		addError(&resp.Diagnostics, "Cluster Not Found",
			fmt.Sprintf("ECS has no cluster %q in region %s. Check the name and the provider's region.", name, d.clients.Region), err)
		return
	case err != nil:
		addError(&resp.Diagnostics, "Unable to Read ECS Cluster",
			fmt.Sprintf("The provider could not describe the ECS cluster %q. Check the provider's region, endpoints and credentials.", name), err)
		return
	}

	data.ARN = types.StringPointerValue(cluster.ClusterArn)
	data.Status = types.StringPointerValue(cluster.Status)
	data.ActiveServicesCount = types.Int64Value(int64(cluster.ActiveServicesCount))
	data.RunningTasksCount = types.Int64Value(int64(cluster.RunningTasksCount))
	data.PendingTasksCount = types.Int64Value(int64(cluster.PendingTasksCount))

	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}
