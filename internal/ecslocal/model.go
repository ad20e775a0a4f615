package ecslocal

import (
	"encoding/json"
	"time"
)

// Tag is an ECS resource tag (camelCase members).
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type cluster struct {
	arn       string
	name      string
	status    string
	createdAt time.Time
	// visibleAt is when the cluster shows in DescribeClusters and ListClusters, and when
	// CreateService, UpdateService and DeleteService find it: its creation plus
	// Options.ConsistencyLag (the ECS API's eventual consistency, findVisibleCluster).
	visibleAt time.Time
	tags      []Tag
	// services by name, ACTIVE, DRAINING and INACTIVE ones alike; an INACTIVE one is replaced
	// when its name is created again.
	services map[string]*service
	order    []string // service names in creation order, for stable ListServices pages
	// instances are the cluster's container instances, created as EC2 tasks need them.
	instances []*containerInstance
}

// containerInstance is an EC2 instance registered with a cluster. ecslocal has one for each
// placement need: EC2 tasks are placed on the first instance whose host ports are free, and a
// new instance joins the cluster when none has them.
type containerInstance struct {
	arn, id, ec2ID string
	registeredAt   time.Time
	ports          map[int]*task // host ports in use
	nextDynamic    int
}

type taskDefinition struct {
	arn           string
	family        string
	revision      int
	status        string // ACTIVE, INACTIVE
	registeredAt  time.Time
	deregistered  time.Time
	input         map[string]json.RawMessage // the RegisterTaskDefinition request, echoed back
	containers    []containerDef
	tags          []Tag
	compatibility []string
	networkMode   string // as registered; "" means the default (bridge on EC2)
}

type containerDef struct {
	Name         string            `json:"name"`
	Image        string            `json:"image"`
	Essential    *bool             `json:"essential,omitempty"`
	DockerLabels map[string]string `json:"dockerLabels,omitempty"`
	PortMappings []portMapping     `json:"portMappings,omitempty"`
	HealthCheck  *healthCheckDef   `json:"healthCheck,omitempty"`
}

func (c containerDef) essential() bool { return c.Essential == nil || *c.Essential }

type portMapping struct {
	ContainerPort *int   `json:"containerPort"`
	HostPort      *int   `json:"hostPort"`
	Protocol      string `json:"protocol"`
}

// healthCheckDef is a container health check (the HealthCheck API reference,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html: interval 5–300 s,
// default 30; timeout 2–60 s, default 5; retries 1–10, default 3; startPeriod 0–300 s, default
// off).
type healthCheckDef struct {
	Command     []string `json:"command"`
	Interval    *int     `json:"interval"`
	Timeout     *int     `json:"timeout"`
	Retries     *int     `json:"retries"`
	StartPeriod *int     `json:"startPeriod"`
}

// behavior is what a task of a task definition does once started, from the docker label
// ecslocal.behavior of its containers.
type behavior struct {
	crashOnStart bool
	crashAfter   time.Duration // 0: never
	slowStart    time.Duration // extra start delay
}

type service struct {
	arn, name, clusterArn string
	status                string // ACTIVE, DRAINING, INACTIVE
	desired               int
	taskDef               *taskDefinition
	createdAt             time.Time
	tags                  []Tag
	// raw members of the CreateService request that ecslocal stores and echoes without acting
	// on them (network configuration, load balancers, launch type, ...).
	launchType        string
	platformVersion   string
	capacityProviders []map[string]any
	loadBalancers     []map[string]any
	registries        []map[string]any
	networkConfig     map[string]any
	deploymentConfig  map[string]any
	gracePeriod       *int
	propagateTags     string
	enableExecCommand bool
	enableManagedTags bool
	schedulingStrat   string
	clientToken       string // CreateService's idempotency token
	createRequest     string // CreateService's request, canonical JSON: a retry must match it
	// azRebalancing is availabilityZoneRebalancing: ENABLED or DISABLED.
	azRebalancing string
	// visibleAt is when the service shows in DescribeServices and ListServices: its creation plus
	// Options.ConsistencyLag.
	visibleAt time.Time

	deployments []*deployment // deployments[0] is PRIMARY
	tasks       []*task       // every task of the service, stopped ones included (bounded)
	events      []event       // newest first, at most maxEvents

	steady          bool      // a steady-state event has been emitted for the current state
	consecutiveFail int       // failures since the last successful start, for launch backoff
	nextLaunch      time.Time // launches wait until then after failures
	launchPending   bool      // a launch event is queued
	lastRecorded    countSnapshot
}

type deployment struct {
	id          string
	status      string // PRIMARY, ACTIVE
	taskDef     *taskDefinition
	desired     int
	failedTasks int
	createdAt   time.Time
	updatedAt   time.Time
	rollout     string // IN_PROGRESS, COMPLETED, FAILED
	rolloutWhy  string
	everRunning bool // a task of this deployment has run successfully: RUNNING, and healthy if it waits for health checks
	// lbs are the load balancers its tasks register with (a change of the service's load
	// balancers starts a new deployment).
	lbs []lbRef
}

// lbRef is one entry of a service's loadBalancers.
type lbRef struct {
	targetGroupArn, loadBalancerName, containerName string
	containerPort                                   int
}

type task struct {
	arn, id string
	svc     *service
	dep     *deployment
	taskDef *taskDefinition
	// lastStatus is PENDING, RUNNING, DEACTIVATING (while its targets drain), STOPPING (after they
	// have, for the stop delay) or STOPPED; PROVISIONING and ACTIVATING are part of PENDING.
	lastStatus    string
	desiredStatus string // RUNNING, STOPPED
	createdAt     time.Time
	startedAt     time.Time
	stoppingAt    time.Time
	stoppedAt     time.Time
	stoppedReason string
	stopCode      string
	exitCode      *int
	gen           int // bumps whenever the task's queued event changes
	failed        bool
	// finalStopCode, when set, replaces stopCode as the task reaches STOPPED (a Fargate Spot
	// task reports TerminationNotice during its two-minute warning, then SpotInterruption).
	finalStopCode string
	// az is the Availability Zone of an awsvpc task (its subnet's); capacityProvider the
	// capacity provider it was placed with, when its service has a strategy.
	az, capacityProvider string

	// Where the task runs: an EC2 task's container instance and host ports, an awsvpc task's
	// network interface.
	instance  *containerInstance
	hostPorts map[string]int // "container/containerPort" -> host port (bridge and host modes)
	eni       *eni
	// targets are the task's registrations in its load balancers' target groups, in the order of
	// its deployment's load balancers.
	targets []*target
	// health is the health history of each container with a health check, by container index.
	health map[int]track
	// hgen bumps when the task stops, superseding its queued health events.
	hgen int
	// unhealthy is set once ECS has found the task unhealthy, or has decided on its own to
	// replace it (Fargate task retirement, Availability Zone rebalancing); it is replaced, then
	// stopped.
	unhealthy *unhealthyCause
}

// eni is an awsvpc task's elastic network interface.
type eni struct {
	attachmentID, id, mac, ip, subnet string
}

// unhealthyCause is why ECS stops an unhealthy task: its stopped reason and the service event it
// writes.
type unhealthyCause struct {
	at     time.Time
	reason string
	event  string // written as the task is stopped; none for retirement and rebalancing
	kind   int    // causeUnhealthy, causeRetirement or causeRebalance
}

// The reasons ECS replaces a task of a service on its own.
const (
	causeUnhealthy  = iota // a failed load balancer or container health check
	causeRetirement        // Fargate task retirement (infrastructure maintenance)
	causeRebalance         // Availability Zone rebalancing
)

type event struct {
	id        string
	createdAt time.Time
	message   string
}

type countSnapshot struct {
	desired, running, pending int
	status                    string
	healthy                   string // the healthy target counts, rendered
}
