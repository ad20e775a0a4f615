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
	tags      []Tag
	// services by name, ACTIVE, DRAINING and INACTIVE ones alike; an INACTIVE one is replaced
	// when its name is created again.
	services map[string]*service
	order    []string // service names in creation order, for stable ListServices pages
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
}

type containerDef struct {
	Name         string            `json:"name"`
	Image        string            `json:"image"`
	Essential    *bool             `json:"essential,omitempty"`
	DockerLabels map[string]string `json:"dockerLabels,omitempty"`
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
	everRunning bool // a task of this deployment has reached RUNNING
}

type task struct {
	arn, id       string
	svc           *service
	dep           *deployment
	taskDef       *taskDefinition
	lastStatus    string // PROVISIONING is skipped: PENDING, RUNNING, STOPPED
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
}

type event struct {
	id        string
	createdAt time.Time
	message   string
}

type countSnapshot struct {
	desired, running, pending int
	status                    string
}
