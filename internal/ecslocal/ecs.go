package ecslocal

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ecsOps maps ECS operation names to their handlers.
var ecsOps = map[string]handler{
	"CreateCluster":              (*Server).createCluster,
	"DescribeClusters":           (*Server).describeClusters,
	"ListClusters":               (*Server).listClusters,
	"RegisterTaskDefinition":     (*Server).registerTaskDefinition,
	"DescribeTaskDefinition":     (*Server).describeTaskDefinition,
	"DeregisterTaskDefinition":   (*Server).deregisterTaskDefinition,
	"ListTaskDefinitions":        (*Server).listTaskDefinitions,
	"CreateService":              (*Server).createService,
	"UpdateService":              (*Server).updateService,
	"DescribeServices":           (*Server).describeServices,
	"ListServices":               (*Server).listServices,
	"DeleteService":              (*Server).deleteService,
	"TagResource":                (*Server).tagResource,
	"UntagResource":              (*Server).untagResource,
	"ListTagsForResource":        (*Server).listTagsForResource,
	"ListTasks":                  (*Server).listTasks,
	"DescribeTasks":              (*Server).describeTasks,
	"DescribeContainerInstances": (*Server).describeContainerInstances,
	"ListContainerInstances":     (*Server).listContainerInstances,
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func (s *Server) arn(rc *reqCtx, resource string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s", rc.region, s.opts.AccountID, resource)
}

// lastSegment returns what follows the last "/" of an ARN, or ref itself when it is a name.
func lastSegment(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if i := strings.LastIndex(ref, "/"); i >= 0 {
			return ref[i+1:]
		}
	}
	return ref
}

func (s *Server) findCluster(ref string) (*cluster, *apiError) {
	if ref == "" {
		ref = "default"
	}
	c := s.clusters[lastSegment(ref)]
	if c == nil || c.status != "ACTIVE" {
		return nil, errf(codeClusterNotFound, "Cluster not found.")
	}
	return c, nil
}

// findVisibleCluster finds a cluster as a call after its creation sees it: one created less than
// Options.ConsistencyLag ago is not found yet, ClusterNotFoundException. Describe and List calls
// look clusters up this way, and so do CreateService, UpdateService and DeleteService: "The
// Amazon ECS API follows an eventual consistency model ... the result of an API command you run
// that affects your Amazon ECS resources might not be immediately visible to all subsequent
// commands you run" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html),
// and a create, update or delete of a service names its cluster like any other command. The
// error is the one terraform-provider-aws retries CreateService on for about two minutes
// (retryServiceCreate, internal/service/ecs/service.go) when the cluster was created in the same
// apply; ClusterNotFoundException is in the Errors of
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html.
func (s *Server) findVisibleCluster(ref string, now time.Time) (*cluster, *apiError) {
	c, err := s.findCluster(ref)
	if err == nil && !visible(c.visibleAt, now) {
		return nil, errf(codeClusterNotFound, "Cluster not found.")
	}
	return c, err
}

func (s *Server) findService(c *cluster, ref string) (*service, *apiError) {
	svc := c.services[lastSegment(ref)]
	if svc == nil {
		return nil, errf(codeServiceNotFound, "Service not found.")
	}
	return svc, nil
}

// findTaskDefinition resolves "family", "family:revision" or an ARN. A bare family resolves to
// its latest ACTIVE revision.
func (s *Server) findTaskDefinition(ref string) *taskDefinition {
	ref = strings.TrimPrefix(lastSegment(ref), "task-definition/")
	family, rev, hasRev := strings.Cut(ref, ":")
	revs := s.taskDefs[family]
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].status == "ACTIVE" {
				return revs[i]
			}
		}
		return nil
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

// validateTags applies ECS's tag limits: at most 50 tags, keys of 1–128 and values of at most
// 256 characters, and no keys with the reserved aws: prefix.
func validateTags(tags []Tag) *apiError {
	if len(tags) > 50 {
		return errf(codeInvalidParameter, "Too many tags: a resource can have at most 50 tags.")
	}
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 128 {
			return errf(codeInvalidParameter, "Tag keys must be between 1 and 128 characters.")
		}
		if utf8.RuneCountInString(t.Value) > 256 {
			return errf(codeInvalidParameter, "Tag values must be at most 256 characters.")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errf(codeInvalidParameter, "Tag keys may not begin with the reserved prefix aws:.")
		}
	}
	return nil
}

// mergeTags adds or overwrites tags by key and checks the 50-tag limit on the result.
func mergeTags(have, add []Tag) ([]Tag, *apiError) {
	out := append([]Tag(nil), have...)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o Tag) bool { return o.Key == t.Key })
		if i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	if len(out) > 50 {
		return nil, errf(codeInvalidParameter, "Too many tags: a resource can have at most 50 tags.")
	}
	return out, nil
}

// ---- clusters ----

type clusterJSON struct {
	ClusterArn                        string `json:"clusterArn"`
	ClusterName                       string `json:"clusterName"`
	Status                            string `json:"status"`
	RegisteredContainerInstancesCount int    `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int    `json:"runningTasksCount"`
	PendingTasksCount                 int    `json:"pendingTasksCount"`
	ActiveServicesCount               int    `json:"activeServicesCount"`
	Tags                              []Tag  `json:"tags,omitempty"`
}

func (c *cluster) toJSON(withTags bool) clusterJSON {
	out := clusterJSON{ClusterArn: c.arn, ClusterName: c.name, Status: c.status, RegisteredContainerInstancesCount: len(c.instances)}
	for _, svc := range c.services {
		if svc.status == "ACTIVE" {
			out.ActiveServicesCount++
		}
		r, p := svc.counts()
		out.RunningTasksCount += r
		out.PendingTasksCount += p
	}
	if withTags {
		out.Tags = c.tags
	}
	return out
}

func (s *Server) createCluster(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		ClusterName string `json:"clusterName"`
		Tags        []Tag  `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ClusterName == "" {
		in.ClusterName = "default"
	}
	if !namePattern.MatchString(in.ClusterName) {
		return nil, errf(codeInvalidParameter, "Cluster name can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores, and hyphens.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	c := s.clusters[in.ClusterName]
	if c == nil || c.status != "ACTIVE" {
		c = &cluster{
			arn: s.arn(rc, "cluster/"+in.ClusterName), name: in.ClusterName, status: "ACTIVE",
			createdAt: rc.now, visibleAt: s.visibleFrom(rc), tags: in.Tags, services: map[string]*service{},
		}
		s.clusters[in.ClusterName] = c
	}
	return map[string]any{"cluster": c.toJSON(true)}, nil
}

type failure struct {
	Arn    string `json:"arn"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

func (s *Server) describeClusters(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		Clusters []string `json:"clusters"`
		Include  []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	if len(in.Clusters) > 100 {
		return nil, errf(codeInvalidParameter, "clusters can have at most 100 items.")
	}
	withTags := slices.Contains(in.Include, "TAGS")
	out := struct {
		Clusters []clusterJSON `json:"clusters"`
		Failures []failure     `json:"failures"`
	}{Clusters: []clusterJSON{}, Failures: []failure{}}
	for _, ref := range in.Clusters {
		c, err := s.findCluster(ref)
		if err == nil && !visible(c.visibleAt, rc.now) {
			err = errf(codeClusterNotFound, "Cluster not found.") // eventual consistency: not yet visible
		}
		if err != nil {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.arn(rc, "cluster/"+ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.Clusters = append(out.Clusters, c.toJSON(withTags))
	}
	return out, nil
}

// ---- task definitions ----

func (td *taskDefinition) toJSON() map[string]any {
	out := map[string]any{}
	for k, v := range td.input {
		if k != "tags" {
			out[k] = v
		}
	}
	out["taskDefinitionArn"] = td.arn
	out["family"] = td.family
	out["revision"] = td.revision
	out["status"] = td.status
	out["registeredAt"] = ts(td.registeredAt)
	out["registeredBy"] = "arn:aws:iam::000000000000:user/ecslocal"
	out["compatibilities"] = td.compatibility
	if !td.deregistered.IsZero() {
		out["deregisteredAt"] = ts(td.deregistered)
	}
	return out
}

// parseBehavior reads the ecslocal.behavior docker label of the task definition's containers.
func parseBehavior(containers []containerDef) (behavior, error) {
	var b behavior
	for _, c := range containers {
		label, ok := c.DockerLabels["ecslocal.behavior"]
		if !ok {
			continue
		}
		name, arg, _ := strings.Cut(label, "=")
		switch name {
		case "healthy":
		case "crash-on-start":
			b.crashOnStart = true
		case "crash-after", "slow-start":
			d, err := time.ParseDuration(arg)
			if err != nil || d < 0 {
				return b, fmt.Errorf("docker label ecslocal.behavior=%q: %q is not a duration", label, arg)
			}
			if name == "crash-after" {
				b.crashAfter = d
			} else {
				b.slowStart = d
			}
		default:
			return b, fmt.Errorf("docker label ecslocal.behavior=%q: want healthy, crash-on-start, crash-after=<duration> or slow-start=<duration>", label)
		}
	}
	return b, nil
}

// checkHealthSettings checks the health labels and container health checks of a task definition:
// a label must parse, and a health check must have a command and its settings within the ranges
// of the HealthCheck API reference
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html).
func checkHealthSettings(containers []containerDef) *apiError {
	for _, c := range containers {
		for _, label := range []string{labelELBHealth, labelContainerHealth} {
			if v, ok := c.DockerLabels[label]; ok {
				if _, err := parseHealthBehavior(label, v); err != nil {
					return errf(codeClientException, "%v", err)
				}
			}
		}
		hc := c.HealthCheck
		if hc == nil {
			continue
		}
		if len(hc.Command) == 0 {
			return errf(codeClientException, "Container.healthCheck.command should not be null or empty.")
		}
		for _, r := range []struct {
			name     string
			v        *int
			min, max int
		}{{"interval", hc.Interval, 5, 300}, {"timeout", hc.Timeout, 2, 60}, {"retries", hc.Retries, 1, 10}, {"startPeriod", hc.StartPeriod, 0, 300}} {
			if r.v != nil && (*r.v < r.min || *r.v > r.max) {
				return errf(codeClientException, "Container.healthCheck.%s must be between %d and %d.", r.name, r.min, r.max)
			}
		}
	}
	return nil
}

func (s *Server) registerTaskDefinition(rc *reqCtx, body []byte) (any, *apiError) {
	var raw map[string]json.RawMessage
	if err := decode(body, &raw); err != nil {
		return nil, err
	}
	var in struct {
		Family                  string         `json:"family"`
		ContainerDefinitions    []containerDef `json:"containerDefinitions"`
		RequiresCompatibilities []string       `json:"requiresCompatibilities"`
		NetworkMode             string         `json:"networkMode"`
		Tags                    []Tag          `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !namePattern.MatchString(in.Family) {
		return nil, errf(codeClientException, "Family contains invalid characters or is too long: up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, errf(codeClientException, "Container list cannot be empty.")
	}
	for _, c := range in.ContainerDefinitions {
		if c.Name == "" {
			return nil, errf(codeClientException, "Container.name should not be null or empty.")
		}
		if c.Image == "" {
			return nil, errf(codeClientException, "Container.image should not be null or empty.")
		}
	}
	if _, err := parseBehavior(in.ContainerDefinitions); err != nil {
		return nil, errf(codeClientException, "%v", err)
	}
	if err := checkHealthSettings(in.ContainerDefinitions); err != nil {
		return nil, err
	}
	switch in.NetworkMode {
	case "", "bridge", "host", "awsvpc", "none":
	default:
		return nil, errf(codeClientException, "Invalid networkMode %q: must be bridge, host, awsvpc or none.", in.NetworkMode)
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	compat := []string{"EC2"}
	if slices.Contains(in.RequiresCompatibilities, "FARGATE") {
		compat = append(compat, "FARGATE")
	}
	rev := len(s.taskDefs[in.Family]) + 1
	td := &taskDefinition{
		arn:    s.arn(rc, fmt.Sprintf("task-definition/%s:%d", in.Family, rev)),
		family: in.Family, revision: rev, status: "ACTIVE", registeredAt: rc.now,
		input: raw, containers: in.ContainerDefinitions, tags: in.Tags, compatibility: compat,
		networkMode: in.NetworkMode,
	}
	s.taskDefs[in.Family] = append(s.taskDefs[in.Family], td)
	return map[string]any{"taskDefinition": td.toJSON(), "tags": nonNilTags(td.tags)}, nil
}

func nonNilTags(t []Tag) []Tag {
	if t == nil {
		return []Tag{}
	}
	return t
}

func (s *Server) describeTaskDefinition(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		TaskDefinition string   `json:"taskDefinition"`
		Include        []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	td := s.findTaskDefinition(in.TaskDefinition)
	if td == nil {
		return nil, errf(codeClientException, "Unable to describe task definition.")
	}
	out := map[string]any{"taskDefinition": td.toJSON()}
	if slices.Contains(in.Include, "TAGS") {
		out["tags"] = nonNilTags(td.tags)
	}
	return out, nil
}

func (s *Server) deregisterTaskDefinition(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !strings.Contains(lastSegment(in.TaskDefinition), ":") {
		return nil, errf(codeClientException, "Invalid revision number. Number: %s", in.TaskDefinition)
	}
	td := s.findTaskDefinition(in.TaskDefinition)
	if td == nil {
		return nil, errf(codeClientException, "The specified task definition does not exist.")
	}
	if td.status == "ACTIVE" {
		td.status = "INACTIVE"
		td.deregistered = rc.now
	}
	return map[string]any{"taskDefinition": td.toJSON()}, nil
}
