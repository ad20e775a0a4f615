package ecslocal

import (
	"fmt"
	"strings"
	"time"
)

type deploymentJSON struct {
	ID                       string           `json:"id"`
	Status                   string           `json:"status"`
	TaskDefinition           string           `json:"taskDefinition"`
	DesiredCount             int              `json:"desiredCount"`
	PendingCount             int              `json:"pendingCount"`
	RunningCount             int              `json:"runningCount"`
	FailedTasks              int              `json:"failedTasks"`
	CreatedAt                *epoch           `json:"createdAt,omitempty"`
	UpdatedAt                *epoch           `json:"updatedAt,omitempty"`
	LaunchType               string           `json:"launchType,omitempty"`
	CapacityProviderStrategy []map[string]any `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string           `json:"platformVersion,omitempty"`
	NetworkConfiguration     map[string]any   `json:"networkConfiguration,omitempty"`
	RolloutState             string           `json:"rolloutState"`
	RolloutStateReason       string           `json:"rolloutStateReason"`
}

type eventJSON struct {
	ID        string `json:"id"`
	CreatedAt *epoch `json:"createdAt"`
	Message   string `json:"message"`
}

type serviceJSON struct {
	ServiceArn                    string           `json:"serviceArn"`
	ServiceName                   string           `json:"serviceName"`
	ClusterArn                    string           `json:"clusterArn"`
	LoadBalancers                 []map[string]any `json:"loadBalancers"`
	ServiceRegistries             []map[string]any `json:"serviceRegistries"`
	Status                        string           `json:"status"`
	DesiredCount                  int              `json:"desiredCount"`
	RunningCount                  int              `json:"runningCount"`
	PendingCount                  int              `json:"pendingCount"`
	LaunchType                    string           `json:"launchType,omitempty"`
	CapacityProviderStrategy      []map[string]any `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion               string           `json:"platformVersion,omitempty"`
	TaskDefinition                string           `json:"taskDefinition"`
	DeploymentConfiguration       map[string]any   `json:"deploymentConfiguration"`
	Deployments                   []deploymentJSON `json:"deployments"`
	Events                        []eventJSON      `json:"events"`
	CreatedAt                     *epoch           `json:"createdAt"`
	PlacementConstraints          []any            `json:"placementConstraints"`
	PlacementStrategy             []any            `json:"placementStrategy"`
	NetworkConfiguration          map[string]any   `json:"networkConfiguration,omitempty"`
	HealthCheckGracePeriodSeconds *int             `json:"healthCheckGracePeriodSeconds,omitempty"`
	SchedulingStrategy            string           `json:"schedulingStrategy"`
	DeploymentController          map[string]any   `json:"deploymentController"`
	Tags                          []Tag            `json:"tags,omitempty"`
	CreatedBy                     string           `json:"createdBy"`
	EnableECSManagedTags          bool             `json:"enableECSManagedTags"`
	PropagateTags                 string           `json:"propagateTags"`
	EnableExecuteCommand          bool             `json:"enableExecuteCommand"`
	AvailabilityZoneRebalancing   string           `json:"availabilityZoneRebalancing,omitempty"`
}

func orEmpty(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

// counts returns the service's running and pending task counts. A task that is being stopped
// still counts as running until it has stopped, as on ECS.
func (svc *service) counts() (running, pending int) {
	for _, t := range svc.tasks {
		switch t.lastStatus {
		case "RUNNING":
			running++
		case "PENDING":
			pending++
		}
	}
	return running, pending
}

func (d *deployment) counts(svc *service) (running, pending int) {
	for _, t := range svc.tasks {
		if t.dep != d {
			continue
		}
		switch t.lastStatus {
		case "RUNNING":
			running++
		case "PENDING":
			pending++
		}
	}
	return running, pending
}

func (svc *service) toJSON(withTags bool) serviceJSON {
	running, pending := svc.counts()
	dc := svc.deploymentConfig
	if dc == nil {
		dc = map[string]any{
			"deploymentCircuitBreaker": map[string]any{"enable": false, "rollback": false},
			"maximumPercent":           200,
			"minimumHealthyPercent":    100,
		}
	}
	out := serviceJSON{
		ServiceArn: svc.arn, ServiceName: svc.name, ClusterArn: svc.clusterArn,
		LoadBalancers: orEmpty(svc.loadBalancers), ServiceRegistries: orEmpty(svc.registries),
		Status: svc.status, DesiredCount: svc.desired, RunningCount: running, PendingCount: pending,
		LaunchType: svc.launchType, CapacityProviderStrategy: svc.capacityProviders,
		PlatformVersion: svc.platformVersion, TaskDefinition: svc.taskDef.arn,
		DeploymentConfiguration: dc, CreatedAt: ts(svc.createdAt),
		PlacementConstraints: []any{}, PlacementStrategy: []any{},
		NetworkConfiguration: svc.networkConfig, HealthCheckGracePeriodSeconds: svc.gracePeriod,
		SchedulingStrategy: svc.schedulingStrat, DeploymentController: map[string]any{"type": "ECS"},
		CreatedBy: "arn:aws:iam::000000000000:user/ecslocal", EnableECSManagedTags: svc.enableManagedTags,
		PropagateTags: svc.propagateTags, EnableExecuteCommand: svc.enableExecCommand,
		AvailabilityZoneRebalancing: svc.azRebalancing,
		Deployments:                 []deploymentJSON{}, Events: []eventJSON{},
	}
	if withTags {
		out.Tags = nonNilTags(svc.tags)
	}
	for _, d := range svc.deployments {
		r, p := d.counts(svc)
		out.Deployments = append(out.Deployments, deploymentJSON{
			ID: d.id, Status: d.status, TaskDefinition: d.taskDef.arn, DesiredCount: d.desired,
			PendingCount: p, RunningCount: r, FailedTasks: d.failedTasks,
			CreatedAt: ts(d.createdAt), UpdatedAt: ts(d.updatedAt), LaunchType: svc.launchType,
			CapacityProviderStrategy: svc.capacityProviders, PlatformVersion: svc.platformVersion,
			NetworkConfiguration: svc.networkConfig, RolloutState: d.rollout, RolloutStateReason: d.rolloutWhy,
		})
	}
	for _, e := range svc.events {
		out.Events = append(out.Events, eventJSON{ID: e.id, CreatedAt: ts(e.createdAt), Message: e.message})
	}
	return out
}

type networkBindingJSON struct {
	BindIP        string `json:"bindIP"`
	ContainerPort int    `json:"containerPort"`
	HostPort      int    `json:"hostPort"`
	Protocol      string `json:"protocol"`
}

type networkInterfaceJSON struct {
	AttachmentID       string `json:"attachmentId"`
	PrivateIpv4Address string `json:"privateIpv4Address"`
}

type containerJSON struct {
	ContainerArn      string                 `json:"containerArn"`
	TaskArn           string                 `json:"taskArn"`
	Name              string                 `json:"name"`
	Image             string                 `json:"image"`
	LastStatus        string                 `json:"lastStatus"`
	ExitCode          *int                   `json:"exitCode,omitempty"`
	Reason            string                 `json:"reason,omitempty"`
	HealthStatus      string                 `json:"healthStatus"`
	NetworkBindings   []networkBindingJSON   `json:"networkBindings,omitempty"`
	NetworkInterfaces []networkInterfaceJSON `json:"networkInterfaces,omitempty"`
}

type keyValueJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type attachmentJSON struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Status  string         `json:"status"`
	Details []keyValueJSON `json:"details"`
}

type taskJSON struct {
	TaskArn              string           `json:"taskArn"`
	ClusterArn           string           `json:"clusterArn"`
	TaskDefinitionArn    string           `json:"taskDefinitionArn"`
	ContainerInstanceArn string           `json:"containerInstanceArn,omitempty"`
	LastStatus           string           `json:"lastStatus"`
	DesiredStatus        string           `json:"desiredStatus"`
	HealthStatus         string           `json:"healthStatus"`
	Group                string           `json:"group"`
	StartedBy            string           `json:"startedBy"`
	LaunchType           string           `json:"launchType,omitempty"`
	CapacityProviderName string           `json:"capacityProviderName,omitempty"`
	AvailabilityZone     string           `json:"availabilityZone,omitempty"`
	CreatedAt            *epoch           `json:"createdAt"`
	StartedAt            *epoch           `json:"startedAt,omitempty"`
	StoppingAt           *epoch           `json:"stoppingAt,omitempty"`
	StoppedAt            *epoch           `json:"stoppedAt,omitempty"`
	StoppedReason        string           `json:"stoppedReason,omitempty"`
	StopCode             string           `json:"stopCode,omitempty"`
	Containers           []containerJSON  `json:"containers"`
	Attachments          []attachmentJSON `json:"attachments,omitempty"`
	Version              int              `json:"version"`
}

// toJSON renders a task as DescribeTasks does at time now. An awsvpc task has an
// ElasticNetworkInterface attachment whose details give its subnet, interface and private IPv4
// address (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Attachment.html), and its containers list
// the interface; a task in bridge or host mode lists its containers' network bindings (host ports
// on its container instance).
func (s *Server) taskJSON(t *task, c *cluster, now time.Time) taskJSON {
	out := taskJSON{
		TaskArn: t.arn, ClusterArn: c.arn, TaskDefinitionArn: t.taskDef.arn,
		LastStatus: t.lastStatus, DesiredStatus: t.desiredStatus, HealthStatus: s.taskHealth(t, now),
		Group: "service:" + t.svc.name, StartedBy: t.dep.id, LaunchType: t.svc.launchType,
		CapacityProviderName: t.capacityProvider, AvailabilityZone: t.az,
		CreatedAt: ts(t.createdAt), StartedAt: ts(t.startedAt), StoppingAt: ts(t.stoppingAt),
		StoppedAt: ts(t.stoppedAt), StoppedReason: t.stoppedReason, StopCode: t.stopCode,
		Containers: []containerJSON{}, Version: t.gen + 1,
	}
	if t.instance != nil {
		out.ContainerInstanceArn = t.instance.arn
	}
	if e := t.eni; e != nil {
		status := "ATTACHED"
		if t.lastStatus == "STOPPED" {
			status = "DELETED"
		}
		out.Attachments = []attachmentJSON{{
			ID: e.attachmentID, Type: "ElasticNetworkInterface", Status: status,
			Details: []keyValueJSON{
				{"subnetId", e.subnet}, {"networkInterfaceId", e.id}, {"macAddress", e.mac},
				{"privateDnsName", "ip-" + strings.ReplaceAll(e.ip, ".", "-") + "." + arnRegion(c.arn) + ".compute.internal"},
				{"privateIPv4Address", e.ip},
			},
		}}
	}
	// Containers run until the task stops: they are RUNNING while the task deactivates or stops.
	cstatus := t.lastStatus
	if cstatus == "DEACTIVATING" || cstatus == "STOPPING" {
		cstatus = "RUNNING"
	}
	for i, cd := range t.taskDef.containers {
		cj := containerJSON{
			ContainerArn: fmt.Sprintf("%s/%s", t.arn, cd.Name), TaskArn: t.arn,
			Name: cd.Name, Image: cd.Image, LastStatus: cstatus, HealthStatus: t.containerHealth(i, now),
		}
		if t.lastStatus == "STOPPED" {
			code := 0
			if t.failed && i == 0 {
				code = 1
				cj.Reason = "Essential container exited with code 1"
			}
			if t.exitCode != nil {
				code = *t.exitCode
			}
			cj.ExitCode = &code
		} else if t.lastStatus != "PENDING" {
			for _, pm := range cd.PortMappings {
				if pm.ContainerPort == nil {
					continue
				}
				if hp, ok := t.hostPorts[fmt.Sprintf("%s/%d", cd.Name, *pm.ContainerPort)]; ok {
					proto := pm.Protocol
					if proto == "" {
						proto = "tcp"
					}
					cj.NetworkBindings = append(cj.NetworkBindings, networkBindingJSON{BindIP: "0.0.0.0", ContainerPort: *pm.ContainerPort, HostPort: hp, Protocol: proto})
				}
			}
		}
		if t.eni != nil {
			cj.NetworkInterfaces = []networkInterfaceJSON{{AttachmentID: t.eni.attachmentID, PrivateIpv4Address: t.eni.ip}}
		}
		out.Containers = append(out.Containers, cj)
	}
	return out
}

// fmtTaskList renders task IDs the way ECS service events list them: "(task a) (task b)".
func fmtTaskList(tasks []*task) string {
	s := ""
	for i, t := range tasks {
		if i > 0 {
			s += " "
		}
		s += "(task " + t.id + ")"
	}
	return s
}
