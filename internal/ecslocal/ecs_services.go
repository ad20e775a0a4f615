package ecslocal

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

type serviceInput struct {
	Cluster                       string           `json:"cluster"`
	ServiceName                   string           `json:"serviceName"`
	Service                       string           `json:"service"`
	TaskDefinition                *string          `json:"taskDefinition"`
	DesiredCount                  *int             `json:"desiredCount"`
	LaunchType                    string           `json:"launchType"`
	CapacityProviderStrategy      []map[string]any `json:"capacityProviderStrategy"`
	PlatformVersion               string           `json:"platformVersion"`
	LoadBalancers                 []map[string]any `json:"loadBalancers"`
	ServiceRegistries             []map[string]any `json:"serviceRegistries"`
	NetworkConfiguration          map[string]any   `json:"networkConfiguration"`
	DeploymentConfiguration       map[string]any   `json:"deploymentConfiguration"`
	HealthCheckGracePeriodSeconds *int             `json:"healthCheckGracePeriodSeconds"`
	SchedulingStrategy            string           `json:"schedulingStrategy"`
	PropagateTags                 string           `json:"propagateTags"`
	EnableExecuteCommand          *bool            `json:"enableExecuteCommand"`
	EnableECSManagedTags          *bool            `json:"enableECSManagedTags"`
	ForceNewDeployment            bool             `json:"forceNewDeployment"`
	ClientToken                   string           `json:"clientToken"`
	Tags                          []Tag            `json:"tags"`
	AvailabilityZoneRebalancing   string           `json:"availabilityZoneRebalancing"`
}

// usableTaskDefinition resolves a task definition for a service, which must be ACTIVE.
func (s *Server) usableTaskDefinition(ref string) (*taskDefinition, *apiError) {
	if ref == "" {
		return nil, errf(codeInvalidParameter, "TaskDefinition must be specified.")
	}
	td := s.findTaskDefinition(ref)
	if td == nil {
		return nil, errf(codeClientException, "TaskDefinition not found.")
	}
	if td.status != "ACTIVE" {
		return nil, errf(codeClientException, "TaskDefinition is inactive")
	}
	return td, nil
}

func validateLaunch(in *serviceInput) *apiError {
	if in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0 {
		return errf(codeInvalidParameter, "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	switch in.LaunchType {
	case "", "EC2", "FARGATE", "EXTERNAL":
	default:
		return errf(codeInvalidParameter, "Invalid launch type %q: must be EC2, FARGATE or EXTERNAL.", in.LaunchType)
	}
	switch in.PropagateTags {
	case "", "TASK_DEFINITION", "SERVICE", "NONE":
	default:
		return errf(codeInvalidParameter, "Invalid propagateTags %q: must be TASK_DEFINITION, SERVICE or NONE.", in.PropagateTags)
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return errf(codeInvalidParameter, "Desired count must be greater than or equal to 0.")
	}
	switch in.AvailabilityZoneRebalancing {
	case "", azRebalancingEnabled, azRebalancingDisabled:
	default:
		return errf(codeInvalidParameter, "Invalid availabilityZoneRebalancing %q: must be ENABLED or DISABLED.", in.AvailabilityZoneRebalancing)
	}
	return nil
}

// The values of a service's availabilityZoneRebalancing.
const (
	azRebalancingEnabled  = "ENABLED"
	azRebalancingDisabled = "DISABLED"
)

// validClientToken applies CreateService's clientToken rule: "Up to 36 ASCII characters in the
// range of 33-126 (inclusive) are allowed" (CreateService API reference, clientToken,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html).
func validClientToken(tok string) bool {
	if len(tok) > 36 {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 33 || tok[i] > 126 {
			return false
		}
	}
	return true
}

// canonicalRequest renders a request body with sorted keys and no insignificant space, so that
// two requests with the same parameters compare equal.
func canonicalRequest(body []byte) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return string(body)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) createService(rc *reqCtx, body []byte) (any, *apiError) {
	var in serviceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ServiceName == "" {
		return nil, errf(codeInvalidParameter, "Service name must be specified.")
	}
	if !namePattern.MatchString(in.ServiceName) {
		return nil, errf(codeInvalidParameter, "Service name can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores, and hyphens.")
	}
	if err := validateLaunch(&in); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	switch in.SchedulingStrategy {
	case "", "REPLICA":
	case "DAEMON":
		return nil, errf(codeClientException, "ecslocal does not emulate the DAEMON scheduling strategy.")
	default:
		return nil, errf(codeInvalidParameter, "Invalid scheduling strategy %q.", in.SchedulingStrategy)
	}
	// A cluster created less than Options.ConsistencyLag ago is not found yet (findVisibleCluster).
	c, err := s.findVisibleCluster(in.Cluster, rc.now)
	if err != nil {
		return nil, err
	}
	ref := ""
	if in.TaskDefinition != nil {
		ref = *in.TaskDefinition
	}
	td, err := s.usableTaskDefinition(ref)
	if err != nil {
		return nil, err
	}
	if !validClientToken(in.ClientToken) {
		return nil, errf(codeInvalidParameter, "clientToken can have up to 36 ASCII characters in the range of 33-126.")
	}
	request := canonicalRequest(body)
	if old := c.services[in.ServiceName]; old != nil && old.status != "INACTIVE" {
		// The name of an ACTIVE or DRAINING service is taken, whatever the token. Only the retry
		// of the request that created an ACTIVE service, with its client token and the same
		// parameters, gets that service back: "If you retry a request that completed
		// successfully using the same client token and the same parameters, the retry succeeds
		// without performing any further actions" ("Ensuring idempotency", ECS API reference,
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/ECS_Idempotency.html; the
		// clientToken member of
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html). A
		// DRAINING service is being deleted: "If you attempt to create a new service with the
		// same name as an existing service in either ACTIVE or DRAINING status, you receive an
		// error" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html).
		// No token brings it back, and its name is free only once it is INACTIVE.
		if old.status == "ACTIVE" && in.ClientToken != "" && old.clientToken == in.ClientToken && old.createRequest == request {
			return map[string]any{"service": old.toJSON(true)}, nil
		}
		return nil, errf(codeInvalidParameter, "Creation of service was not idempotent.")
	}
	desired := 0
	if in.DesiredCount != nil {
		desired = *in.DesiredCount
	}
	svc := &service{
		arn: s.arn(rc, "service/"+c.name+"/"+in.ServiceName), name: in.ServiceName, clusterArn: c.arn,
		status: "ACTIVE", desired: desired, taskDef: td, createdAt: rc.now, tags: in.Tags,
		launchType: in.LaunchType, platformVersion: in.PlatformVersion,
		capacityProviders: in.CapacityProviderStrategy, loadBalancers: in.LoadBalancers,
		registries: in.ServiceRegistries, networkConfig: in.NetworkConfiguration,
		deploymentConfig: in.DeploymentConfiguration, gracePeriod: in.HealthCheckGracePeriodSeconds,
		propagateTags: in.PropagateTags, schedulingStrat: "REPLICA", clientToken: in.ClientToken,
		createRequest: request, visibleAt: s.visibleFrom(rc), azRebalancing: in.AvailabilityZoneRebalancing,
	}
	// "For create service requests, when no value is specified for AvailabilityZoneRebalancing,
	// Amazon ECS defaults the value to ENABLED" (CreateService API reference,
	// availabilityZoneRebalancing, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html);
	// AWS leaves it DISABLED for services that cannot rebalance (the binpack placement strategy,
	// the DAEMON strategy), which ecslocal does not emulate.
	if svc.azRebalancing == "" {
		svc.azRebalancing = azRebalancingEnabled
	}
	if in.LaunchType == "" && len(in.CapacityProviderStrategy) == 0 {
		svc.launchType = "EC2"
	}
	if svc.launchType == "FARGATE" && svc.platformVersion == "" {
		svc.platformVersion = "LATEST"
	}
	if svc.propagateTags == "" {
		svc.propagateTags = "NONE"
	}
	if in.EnableExecuteCommand != nil {
		svc.enableExecCommand = *in.EnableExecuteCommand
	}
	if in.EnableECSManagedTags != nil {
		svc.enableManagedTags = *in.EnableECSManagedTags
	}
	refs, err := parseLBRefs(in.LoadBalancers)
	if err != nil {
		return nil, err
	}
	if err := s.checkLoadBalancers(svc, td, refs); err != nil {
		return nil, err
	}
	// In an account without ECS's service-linked role, the first CreateService fails while ECS
	// creates the role (Options.FreshAccount).
	if s.ecsRoleMissing {
		s.ecsRoleMissing = false
		return nil, errf(codeInvalidParameter, "Unable to assume the service linked role. Please verify that the ECS service linked role exists.")
	}
	svc.deployments = []*deployment{s.newDeployment(rc.now, td, desired)}
	svc.deployments[0].lbs = refs
	if _, seen := c.services[in.ServiceName]; !seen {
		c.order = append(c.order, in.ServiceName)
	}
	c.services[in.ServiceName] = svc
	s.reconcileLocked(c, svc, rc.now)
	return map[string]any{"service": svc.toJSON(true)}, nil
}

func (s *Server) updateService(rc *reqCtx, body []byte) (any, *apiError) {
	var in serviceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validateLaunch(&in); err != nil {
		return nil, err
	}
	c, err := s.findVisibleCluster(in.Cluster, rc.now)
	if err != nil {
		return nil, err
	}
	svc, err := s.findService(c, in.Service)
	if err != nil {
		return nil, err
	}
	if svc.status != "ACTIVE" {
		return nil, errf(codeServiceNotActive, "Service was not ACTIVE.")
	}
	td := svc.taskDef
	if in.TaskDefinition != nil {
		if td, err = s.usableTaskDefinition(*in.TaskDefinition); err != nil {
			return nil, err
		}
	}
	// The load balancers of a new deployment: the ones given, or the primary's.
	refs := svc.deployments[0].lbs
	lbChanged := false
	if in.LoadBalancers != nil {
		if refs, err = parseLBRefs(in.LoadBalancers); err != nil {
			return nil, err
		}
		lbChanged = !slices.Equal(refs, svc.deployments[0].lbs)
	}
	if td != svc.taskDef || lbChanged {
		probe := *svc
		if in.CapacityProviderStrategy != nil {
			probe.capacityProviders = in.CapacityProviderStrategy
		}
		if err := s.checkLoadBalancers(&probe, td, refs); err != nil {
			return nil, err
		}
	}
	if in.DesiredCount != nil {
		svc.desired = *in.DesiredCount
	}
	if in.CapacityProviderStrategy != nil {
		svc.capacityProviders = in.CapacityProviderStrategy
	}
	if in.NetworkConfiguration != nil {
		svc.networkConfig = in.NetworkConfiguration
	}
	if in.DeploymentConfiguration != nil {
		svc.deploymentConfig = in.DeploymentConfiguration
	}
	if in.PlatformVersion != "" {
		svc.platformVersion = in.PlatformVersion
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		svc.gracePeriod = in.HealthCheckGracePeriodSeconds
	}
	if in.LoadBalancers != nil {
		svc.loadBalancers = in.LoadBalancers
	}
	if in.ServiceRegistries != nil {
		svc.registries = in.ServiceRegistries
	}
	if in.PropagateTags != "" {
		svc.propagateTags = in.PropagateTags
	}
	if in.EnableExecuteCommand != nil {
		svc.enableExecCommand = *in.EnableExecuteCommand
	}
	// "For update service requests, when no value is specified for
	// AvailabilityZoneRebalancing, Amazon ECS defaults to the existing service's
	// AvailabilityZoneRebalancing value"; it "doesn't trigger a new service deployment"
	// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html).
	if in.AvailabilityZoneRebalancing != "" {
		svc.azRebalancing = in.AvailabilityZoneRebalancing
	}
	svc.consecutiveFail = 0
	svc.nextLaunch = rc.now
	// A new task definition starts a new PRIMARY deployment, and so does a change of load
	// balancers ("When you add, update, or remove a load balancer configuration, Amazon ECS starts
	// a new deployment", https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html); the
	// previous ones are drained as it comes up.
	if td != svc.taskDef || in.ForceNewDeployment || lbChanged {
		for _, d := range svc.deployments {
			d.status = "ACTIVE"
		}
		svc.taskDef = td
		nd := s.newDeployment(rc.now, td, svc.desired)
		nd.lbs = refs
		svc.deployments = append([]*deployment{nd}, svc.deployments...)
	} else {
		svc.deployments[0].desired = svc.desired
		svc.deployments[0].updatedAt = rc.now
	}
	svc.steady = false
	s.reconcileLocked(c, svc, rc.now)
	return map[string]any{"service": svc.toJSON(false)}, nil
}

func (s *Server) describeServices(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
		Include  []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, errf(codeInvalidParameter, "Services cannot be empty.")
	}
	if len(in.Services) > 10 {
		return nil, errf(codeInvalidParameter, "service names can have at most 10 items.")
	}
	c, err := s.findVisibleCluster(in.Cluster, rc.now)
	if err != nil {
		return nil, err
	}
	withTags := slices.Contains(in.Include, "TAGS")
	out := struct {
		Services []serviceJSON `json:"services"`
		Failures []failure     `json:"failures"`
	}{Services: []serviceJSON{}, Failures: []failure{}}
	for _, ref := range in.Services {
		svc := c.services[lastSegment(ref)]
		// A service created less than Options.ConsistencyLag ago is not visible yet: it is
		// MISSING, as a service that does not exist.
		if svc == nil || !visible(svc.visibleAt, rc.now) {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.arn(rc, "service/"+c.name+"/"+ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.Services = append(out.Services, svc.toJSON(withTags))
	}
	return out, nil
}

// pageToken and parsePageToken make opaque NextToken values out of list offsets.
func pageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("ecslocal:" + strconv.Itoa(offset)))
}

func parsePageToken(tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "ecslocal:") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "ecslocal:"))
	return n, err == nil && n >= 0
}

// paginate returns one page of items and the token of the next page. A bad maxResults is an
// error of code, a bad token one of tokenCode.
func paginate[T any](items []T, token string, maxResults *int, def, limit int, code, tokenCode string) ([]T, *string, *apiError) {
	size := def
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > limit {
			return nil, nil, errf(code, "maxResults must be between 1 and %d.", limit)
		}
		size = *maxResults
	}
	start, ok := parsePageToken(token)
	if !ok || start > len(items) {
		return nil, nil, errf(tokenCode, "Invalid token %s", token)
	}
	end := min(start+size, len(items))
	var next *string
	if end < len(items) {
		t := pageToken(end)
		next = &t
	}
	return items[start:end], next, nil
}

func (s *Server) listServices(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		Cluster            string `json:"cluster"`
		MaxResults         *int   `json:"maxResults"`
		NextToken          string `json:"nextToken"`
		LaunchType         string `json:"launchType"`
		SchedulingStrategy string `json:"schedulingStrategy"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.findVisibleCluster(in.Cluster, rc.now)
	if err != nil {
		return nil, err
	}
	arns := []string{}
	for _, name := range c.order {
		svc := c.services[name]
		// A deleted service leaves ListServices at once: "When you delete a service, if there
		// are still running tasks that require cleanup, the service status moves from ACTIVE to
		// DRAINING, and the service is no longer visible in the console or in the ListServices
		// API operation" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html),
		// so DRAINING and INACTIVE ones are not listed. A new one is listed once
		// Options.ConsistencyLag has passed.
		if svc.status != "ACTIVE" || !visible(svc.visibleAt, rc.now) {
			continue
		}
		if in.LaunchType != "" && svc.launchType != in.LaunchType {
			continue
		}
		if in.SchedulingStrategy != "" && svc.schedulingStrat != in.SchedulingStrategy {
			continue
		}
		arns = append(arns, svc.arn)
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 10, 100, codeInvalidParameter, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"serviceArns": page}, "nextToken", next), nil
}

func (s *Server) deleteService(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		Cluster string `json:"cluster"`
		Service string `json:"service"`
		Force   bool   `json:"force"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.findVisibleCluster(in.Cluster, rc.now)
	if err != nil {
		return nil, err
	}
	svc, err := s.findService(c, in.Service)
	if err != nil {
		return nil, err
	}
	// DeleteService (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html):
	// "the service status moves from ACTIVE to DRAINING" while tasks still need cleanup, and
	// "After all tasks have transitioned to either STOPPING or STOPPED status, the service status
	// moves from DRAINING to INACTIVE" (the scheduler, reconcileLocked); "If you attempt to create
	// a new service with the same name as an existing service in either ACTIVE or DRAINING
	// status, you receive an error" (createService). Deleting a DRAINING or INACTIVE service
	// succeeds and returns it, as on ECS.
	if svc.status == "ACTIVE" {
		if svc.desired > 0 && !in.Force {
			return nil, errf(codeInvalidParameter, "The service cannot be stopped while it is scaled above 0.")
		}
		svc.status = "DRAINING"
		svc.desired = 0
		for _, d := range svc.deployments {
			d.desired = 0
		}
		svc.steady = false
		// ECS deregisters the service's scalable target, and with it the scaling policies.
		s.deregisterTargetLocked(scalableResourceID(c.name, svc.name))
		s.reconcileLocked(c, svc, rc.now)
	}
	return map[string]any{"service": svc.toJSON(false)}, nil
}

// ---- tags ----

// taggable finds the tags of the resource an ARN names: a cluster, a service or a task
// definition.
func (s *Server) taggable(arn string) (*[]Tag, *apiError) {
	notFound := errf(codeResourceNotFound, "The specified resource wasn't found.")
	_, res, ok := strings.Cut(arn, ":"+s.opts.AccountID+":")
	if !strings.HasPrefix(arn, "arn:aws:ecs:") || !ok {
		return nil, errf(codeInvalidParameter, "Invalid resource ARN %q.", arn)
	}
	parts := strings.Split(res, "/")
	switch {
	case parts[0] == "cluster" && len(parts) == 2:
		if c := s.clusters[parts[1]]; c != nil && c.status == "ACTIVE" {
			return &c.tags, nil
		}
	case parts[0] == "service" && len(parts) == 3:
		c, err := s.findCluster(parts[1])
		if err != nil {
			return nil, err
		}
		if svc := c.services[parts[2]]; svc != nil && svc.status != "INACTIVE" {
			return &svc.tags, nil
		}
	case parts[0] == "task-definition" && len(parts) == 2:
		if td := s.findTaskDefinition(parts[1]); td != nil && strings.Contains(parts[1], ":") {
			return &td.tags, nil
		}
	}
	return nil, notFound
}

func (s *Server) tagResource(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
		Tags        []Tag  `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	tags, err := s.taggable(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	merged, err := mergeTags(*tags, in.Tags)
	if err != nil {
		return nil, err
	}
	*tags = merged
	return map[string]any{}, nil
}

func (s *Server) untagResource(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		ResourceArn string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	tags, err := s.taggable(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	*tags = slices.DeleteFunc(*tags, func(t Tag) bool { return slices.Contains(in.TagKeys, t.Key) })
	return map[string]any{}, nil
}

func (s *Server) listTagsForResource(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	tags, err := s.taggable(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": nonNilTags(*tags)}, nil
}

// ---- tasks ----

func (s *Server) listTasks(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		Cluster       string `json:"cluster"`
		ServiceName   string `json:"serviceName"`
		DesiredStatus string `json:"desiredStatus"`
		Family        string `json:"family"`
		StartedBy     string `json:"startedBy"`
		MaxResults    *int   `json:"maxResults"`
		NextToken     string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	switch in.DesiredStatus {
	case "":
		in.DesiredStatus = "RUNNING"
	case "RUNNING", "PENDING", "STOPPED":
	default:
		return nil, errf(codeInvalidParameter, "Invalid desiredStatus %q.", in.DesiredStatus)
	}
	if in.ServiceName != "" && in.Family != "" {
		return nil, errf(codeInvalidParameter, "Only one of serviceName or family may be specified.")
	}
	c, err := s.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var services []*service
	if in.ServiceName != "" {
		svc, err := s.findService(c, in.ServiceName)
		if err != nil {
			return nil, err
		}
		services = []*service{svc}
	} else {
		for _, name := range c.order {
			services = append(services, c.services[name])
		}
	}
	arns := []string{}
	for _, svc := range services {
		for _, t := range svc.tasks {
			// As on ECS, desiredStatus PENDING matches nothing: a task's desired status is
			// RUNNING or STOPPED, only its last status can be PENDING.
			if t.desiredStatus != in.DesiredStatus {
				continue
			}
			if in.Family != "" && t.taskDef.family != in.Family {
				continue
			}
			if in.StartedBy != "" && t.dep.id != in.StartedBy {
				continue
			}
			arns = append(arns, t.arn)
		}
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100, codeInvalidParameter, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"taskArns": page}, "nextToken", next), nil
}

func (s *Server) describeTasks(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 {
		return nil, errf(codeInvalidParameter, "Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, errf(codeInvalidParameter, "tasks can have at most 100 items.")
	}
	c, err := s.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	byID := map[string]*task{}
	for _, svc := range c.services {
		for _, t := range svc.tasks {
			byID[t.id] = t
		}
	}
	out := struct {
		Tasks    []taskJSON `json:"tasks"`
		Failures []failure  `json:"failures"`
	}{Tasks: []taskJSON{}, Failures: []failure{}}
	for _, ref := range in.Tasks {
		t := byID[lastSegment(ref)]
		if t == nil {
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "MISSING"})
			continue
		}
		out.Tasks = append(out.Tasks, s.taskJSON(t, c, rc.now))
	}
	return out, nil
}
