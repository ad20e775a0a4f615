package ecslocal

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The ECS side of load balancing and health: where tasks run (container instances and host ports,
// network interfaces), their registration in target groups, container health checks, and how the
// service scheduler treats tasks that are RUNNING but do not serve.

// ---- service configuration ----

// parseLBRefs reads a service's loadBalancers.
func parseLBRefs(raw []map[string]any) ([]lbRef, *apiError) {
	var out []lbRef
	for _, m := range raw {
		b, _ := json.Marshal(m)
		var in struct {
			TargetGroupArn   string `json:"targetGroupArn"`
			LoadBalancerName string `json:"loadBalancerName"`
			ContainerName    string `json:"containerName"`
			ContainerPort    *int   `json:"containerPort"`
		}
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, errf(codeInvalidParameter, "Invalid load balancer: %v", err)
		}
		r := lbRef{targetGroupArn: in.TargetGroupArn, loadBalancerName: in.LoadBalancerName, containerName: in.ContainerName}
		if in.ContainerPort != nil {
			r.containerPort = *in.ContainerPort
		}
		out = append(out, r)
	}
	return out, nil
}

// fargate tells whether the service's tasks run on Fargate: its launch type, or a Fargate
// capacity provider.
func (svc *service) fargate() bool {
	if svc.launchType == "FARGATE" {
		return true
	}
	for _, cp := range svc.capacityProviders {
		if name, _ := cp["capacityProvider"].(string); strings.HasPrefix(name, "FARGATE") {
			return true
		}
	}
	return false
}

// networkMode is the network mode of the service's tasks of task definition td: awsvpc on
// Fargate (the only mode it supports), otherwise the task definition's, bridge by default.
func (svc *service) networkMode(td *taskDefinition) string {
	switch {
	case svc.fargate() || td.networkMode == "awsvpc":
		return "awsvpc"
	case td.networkMode == "":
		return "bridge"
	}
	return td.networkMode
}

func (td *taskDefinition) container(name string) *containerDef {
	for i := range td.containers {
		if td.containers[i].Name == name {
			return &td.containers[i]
		}
	}
	return nil
}

func (c *containerDef) maps(port int) bool {
	for _, pm := range c.PortMappings {
		if pm.ContainerPort != nil && *pm.ContainerPort == port {
			return true
		}
	}
	return false
}

// checkLoadBalancers validates a service's load balancers for task definition td the way
// CreateService and UpdateService do. The messages are ECS's:
//   - a target group that no listener forwards to: "The target group with targetGroupArn <arn>
//     does not have an associated load balancer.". A target group is associated with a load
//     balancer through a listener or rule that forwards to it ("To route traffic to the targets
//     in a target group, specify the target group in an action when you create a listener or
//     create a rule for your listener",
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/create-target-group.html);
//     until then its LoadBalancerArns ("The Amazon Resource Name (ARN) of the load balancer that
//     routes traffic to this target group",
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html)
//     is empty, and ECS cannot attach the service to it: for Application and Network Load
//     Balancers the loadBalancers member of CreateService "must contain the load balancer target
//     group ARN"
//     (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#ECS-CreateService-request-loadBalancers).
//     AWS's pages do not quote the message; its wording is the one ECS answers, which
//     terraform-provider-aws matches ("does not have an associated load balancer") to retry
//     CreateService, UpdateService and CreateTaskSet while the listener of a target group created
//     in the same apply appears (internal/service/ecs/service.go, retryServiceCreate);
//   - a target group ECS cannot describe: "Unable to assume role and validate the specified
//     targetGroupArn. ...";
//   - a target type that does not fit the network mode: "The provided target group <arn> has
//     target type instance, which is incompatible with the awsvpc network mode specified in the
//     task definition." (ip target groups for awsvpc, instance ones otherwise: "For services with
//     tasks using the awsvpc network mode, when you create a target group for your service, you
//     must choose ip as the target type, not instance",
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html; "Use load balancing
//     to distribute Amazon ECS service traffic",
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html);
//   - "The container <name> does not exist in the task definition." and "The container <name>
//     did not have a container port <port> defined.".
//
// ecslocal has no Classic Load Balancers, so a loadBalancerName names none.
func (s *Server) checkLoadBalancers(svc *service, td *taskDefinition, refs []lbRef) *apiError {
	if len(refs) > 5 {
		return errf(codeInvalidParameter, "A service can have at most 5 target groups.")
	}
	for _, r := range refs {
		if r.targetGroupArn == "" {
			if r.loadBalancerName != "" {
				return errf(codeInvalidParameter, "The load balancer %s does not exist.", r.loadBalancerName)
			}
			return errf(codeInvalidParameter, "Load balancer must have a target group ARN or a load balancer name.")
		}
		tg := s.elb.tg(r.targetGroupArn)
		if tg == nil {
			return errf(codeInvalidParameter, "Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.")
		}
		if len(tg.lbs) == 0 {
			return errf(codeInvalidParameter, "The target group with targetGroupArn %s does not have an associated load balancer.", r.targetGroupArn)
		}
		c := td.container(r.containerName)
		if c == nil {
			return errf(codeInvalidParameter, "The container %s does not exist in the task definition.", r.containerName)
		}
		if !c.maps(r.containerPort) {
			return errf(codeInvalidParameter, "The container %s did not have a container port %d defined.", r.containerName, r.containerPort)
		}
		mode := svc.networkMode(td)
		if want := map[bool]string{true: "ip", false: "instance"}[mode == "awsvpc"]; tg.targetType != want {
			return errf(codeInvalidParameter, "The provided target group %s has target type %s, which is incompatible with the %s network mode specified in the task definition.", r.targetGroupArn, tg.targetType, mode)
		}
	}
	return nil
}

// gated tells whether the service scheduler waits for more than RUNNING before it counts the
// task as healthy: it is behind a load balancer, or an essential container has a health check
// (DeploymentConfiguration minimumHealthyPercent,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html).
func (tk *task) gated() bool {
	return len(tk.dep.lbs) > 0 || tk.taskDef.hasHealthCheck()
}

func (td *taskDefinition) hasHealthCheck() bool {
	for _, c := range td.containers {
		if c.HealthCheck != nil && c.essential() {
			return true
		}
	}
	return false
}

// serving tells whether a task counts as healthy for the scheduler at time at: "Tasks for services
// that use a load balancer are considered healthy if they're in the RUNNING state and are
// reported as healthy by the load balancer"
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html), and the essential containers'
// health checks must report HEALTHY too (minimumHealthyPercent). A task of a service with neither
// counts once RUNNING.
func (s *Server) serving(tk *task, at time.Time) bool {
	if tk.lastStatus != "RUNNING" {
		return false
	}
	if !tk.gated() {
		return true
	}
	if tk.desiredStatus != "RUNNING" || tk.unhealthy != nil {
		return false
	}
	for _, t := range tk.targets {
		if t == nil || t.health.at(at).state != tsHealthy {
			return false
		}
	}
	return !tk.taskDef.hasHealthCheck() || s.taskHealth(tk, at) == healthHealthy
}

// ---- placement ----

// ephemeral host ports: Docker's default ephemeral range on Linux (PortMapping API reference,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html:
// the range is the instance's /proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default).
const (
	firstEphemeralPort = 32768
	lastEphemeralPort  = 60999
)

// place decides where a new task runs: an EC2 task on a container instance of the cluster (in
// bridge mode each port mapping without a host port gets an ephemeral one; in host mode the host
// port is the container port), an awsvpc task with an elastic network interface of its own, in
// Availability Zone az when one is given.
func (s *Server) place(c *cluster, svc *service, tk *task, az string) {
	mode := svc.networkMode(tk.taskDef)
	if mode == "awsvpc" {
		tk.eni = s.newENI(svc, arnRegion(c.arn), az)
		tk.az = s.zoneOf(arnRegion(c.arn), tk.eni.subnet)
	}
	if svc.fargate() {
		return
	}
	var static []int
	type dyn struct {
		key string
	}
	var dynamic []dyn
	tk.hostPorts = map[string]int{}
	for _, cd := range tk.taskDef.containers {
		for _, pm := range cd.PortMappings {
			if pm.ContainerPort == nil {
				continue
			}
			key := fmt.Sprintf("%s/%d", cd.Name, *pm.ContainerPort)
			switch {
			case mode == "awsvpc" || mode == "none":
			case mode == "host":
				tk.hostPorts[key] = *pm.ContainerPort
				static = append(static, *pm.ContainerPort)
			case pm.HostPort != nil && *pm.HostPort != 0:
				tk.hostPorts[key] = *pm.HostPort
				static = append(static, *pm.HostPort)
			default:
				dynamic = append(dynamic, dyn{key})
			}
		}
	}
	var ci *containerInstance
	for _, cand := range c.instances {
		if !slices.ContainsFunc(static, func(p int) bool { return cand.ports[p] != nil }) {
			ci = cand
			break
		}
	}
	if ci == nil {
		id := randomHex(16)
		ci = &containerInstance{
			arn: fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/%s/%s", arnRegion(c.arn), s.opts.AccountID, c.name, id),
			id:  id, ec2ID: "i-" + randomHex(9)[:17], registeredAt: tk.createdAt,
			ports: map[int]*task{}, nextDynamic: firstEphemeralPort,
		}
		c.instances = append(c.instances, ci)
	}
	tk.instance = ci
	for _, p := range static {
		ci.ports[p] = tk
	}
	for _, d := range dynamic {
		for ci.ports[ci.nextDynamic] != nil {
			ci.nextDynamic++
		}
		p := ci.nextDynamic
		ci.ports[p] = tk
		tk.hostPorts[d.key] = p
		if ci.nextDynamic++; ci.nextDynamic > lastEphemeralPort {
			ci.nextDynamic = firstEphemeralPort
		}
	}
}

// release frees what a stopped task held on its container instance.
func (tk *task) release() {
	if tk.instance == nil {
		return
	}
	for p, owner := range tk.instance.ports {
		if owner == tk {
			delete(tk.instance.ports, p)
		}
	}
}

// defaultSubnet is the subnet of an awsvpc task whose service names none.
const defaultSubnet = "subnet-0ec510ca1000000aa"

// subnets are the subnets of the service's awsvpcConfiguration, in order.
func (svc *service) subnets() []string {
	var out []string
	if vpc, ok := svc.networkConfig["awsvpcConfiguration"].(map[string]any); ok {
		if subnets, ok := vpc["subnets"].([]any); ok {
			for _, sn := range subnets {
				out = append(out, fmt.Sprint(sn))
			}
		}
	}
	return out
}

// zoneOf is the Availability Zone of a subnet. ecslocal has no VPCs: it numbers subnets in the
// order it first sees them, and subnet number n is in zone <region><'a'+n%6>, so that distinct
// subnets of one service (or load balancer) are in distinct zones.
func (s *Server) zoneOf(region, subnet string) string {
	n, ok := s.zones[subnet]
	if !ok {
		n = len(s.zones)
		s.zones[subnet] = n
	}
	return region + string(rune('a'+n%6))
}

// serviceZones are the Availability Zones of the service's subnets, in the order of its subnets.
func (s *Server) serviceZones(c *cluster, svc *service) []string {
	var out []string
	subnets := svc.subnets()
	if len(subnets) == 0 {
		subnets = []string{defaultSubnet}
	}
	for _, sn := range subnets {
		if az := s.zoneOf(arnRegion(c.arn), sn); !slices.Contains(out, az) {
			out = append(out, az)
		}
	}
	return out
}

// zoneCounts counts the service's tasks that are to run (desired status RUNNING, not stopped) in
// each of its Availability Zones.
func (s *Server) zoneCounts(c *cluster, svc *service) map[string]int {
	counts := map[string]int{}
	for _, az := range s.serviceZones(c, svc) {
		counts[az] = 0
	}
	for _, tk := range svc.tasks {
		if tk.az != "" && tk.desiredStatus == "RUNNING" && tk.lastStatus != "STOPPED" {
			counts[tk.az]++
		}
	}
	return counts
}

// newENI gives an awsvpc task a network interface with a private IPv4 address of ecslocal's
// 10.0.0.0/8, in a subnet of the service in Availability Zone az, or, without one, in the zone
// that has the fewest of the service's tasks (the first of the service's subnets on a tie): ECS
// spreads a service's tasks across Availability Zones ("Balancing an Amazon ECS service across
// Availability Zones", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html,
// and the default placement of Fargate tasks).
func (s *Server) newENI(svc *service, region, az string) *eni {
	s.ipSeq++
	n := s.ipSeq
	for n&0xff == 0 || n&0xff == 0xff {
		s.ipSeq++
		n = s.ipSeq
	}
	subnet := defaultSubnet
	if subnets := svc.subnets(); len(subnets) > 0 {
		counts := map[string]int{}
		for _, tk := range svc.tasks {
			if tk.az != "" && tk.desiredStatus == "RUNNING" && tk.lastStatus != "STOPPED" {
				counts[tk.az]++
			}
		}
		best := -1
		for _, sn := range subnets {
			zone := s.zoneOf(region, sn)
			if az != "" {
				if zone == az {
					subnet = sn
					break
				}
				continue
			}
			if best < 0 || counts[zone] < best {
				subnet, best = sn, counts[zone]
			}
		}
	}
	mac := randomHex(5)
	return &eni{
		attachmentID: randomUUID(), id: "eni-" + randomHex(9)[:17], subnet: subnet,
		mac: "0a:" + mac[0:2] + ":" + mac[2:4] + ":" + mac[4:6] + ":" + mac[6:8] + ":" + mac[8:10],
		ip:  fmt.Sprintf("10.%d.%d.%d", (n>>16)&0xff, (n>>8)&0xff, n&0xff),
	}
}

func (s *Server) instanceByEC2ID(id string) *containerInstance {
	for _, c := range s.clusters {
		for _, ci := range c.instances {
			if ci.ec2ID == id {
				return ci
			}
		}
	}
	return nil
}

// listenerAt is how whatever listens at a target answers health checks: the container of a task
// that has started and not stopped, by its ecslocal.elb-health label; nothing listening, and the
// checks time out.
func (s *Server) listenerAt(targetType, id string, port int) healthBehavior {
	for _, c := range s.clusters {
		for _, svc := range c.services {
			for _, tk := range svc.tasks {
				if tk.lastStatus == "PENDING" || tk.lastStatus == "STOPPED" {
					continue
				}
				for _, cd := range tk.taskDef.containers {
					for _, pm := range cd.PortMappings {
						if pm.ContainerPort == nil {
							continue
						}
						at := false
						if targetType == "ip" {
							at = tk.eni != nil && tk.eni.ip == id && *pm.ContainerPort == port
						} else {
							at = tk.instance != nil && tk.instance.ec2ID == id && tk.hostPorts[fmt.Sprintf("%s/%d", cd.Name, *pm.ContainerPort)] == port
						}
						if at {
							return elbBehaviorOf(cd)
						}
					}
				}
			}
		}
	}
	return healthBehavior{kind: noResponse}
}

func elbBehaviorOf(cd containerDef) healthBehavior {
	b, _ := parseHealthBehavior(labelELBHealth, cd.DockerLabels[labelELBHealth])
	if _, ok := cd.DockerLabels[labelELBHealth]; !ok {
		b = healthBehavior{kind: alwaysHealthy}
	}
	return b
}

func containerBehaviorOf(cd containerDef) healthBehavior {
	if _, ok := cd.DockerLabels[labelContainerHealth]; !ok {
		return healthBehavior{kind: alwaysHealthy}
	}
	b, _ := parseHealthBehavior(labelContainerHealth, cd.DockerLabels[labelContainerHealth])
	return b
}

func (s *Server) clusterOf(svc *service) *cluster {
	c := s.clusters[lastSegment(svc.clusterArn)]
	if c == nil || c.services[svc.name] != svc {
		return nil
	}
	return c
}

// ---- a task starts and stops ----

// activate does what ECS does as a task becomes RUNNING: registers it with its target groups
// (the ACTIVATING state of the task lifecycle), starts its containers' health checks, and, when
// the service has a health check grace period, queues the moment it ends.
func (s *Server) activate(c *cluster, svc *service, tk *task, at time.Time) {
	type reg struct {
		tg *targetGroup
		n  int
	}
	var regs []reg
	for _, r := range tk.dep.lbs {
		tg := s.elb.tg(r.targetGroupArn)
		if tg == nil {
			tk.targets = append(tk.targets, nil)
			continue
		}
		id, port := tk.targetOf(r)
		cd := tk.taskDef.container(r.containerName)
		b := healthBehavior{kind: noResponse}
		if cd != nil {
			b = elbBehaviorOf(*cd)
		}
		tk.targets = append(tk.targets, s.register(tg, id, port, b, tk, at))
		if i := slices.IndexFunc(regs, func(x reg) bool { return x.tg == tg }); i >= 0 {
			regs[i].n++
		} else {
			regs = append(regs, reg{tg, 1})
		}
	}
	for _, r := range regs {
		s.addEvent(svc, at, fmt.Sprintf("(service %s) registered %d targets in (target-group %s)", svc.name, r.n, r.tg.arn))
	}
	for i, cd := range tk.taskDef.containers {
		if cd.HealthCheck == nil {
			continue
		}
		if tk.health == nil {
			tk.health = map[int]track{}
		}
		tr := containerTrack(s, cd, at)
		tk.health[i] = tr
		s.scheduleHealthEvents(tk, tr, at)
	}
	if grace := s.gracePeriod(svc); grace > 0 && tk.gated() {
		s.schedule(&qEvent{at: at.Add(grace), kind: evHealth, task: tk, gen: tk.hgen, svc: svc, c: c})
	}
}

// targetOf is where ECS registers a task for one of its load balancers: an awsvpc task's ENI
// address and the container port (target type ip); otherwise its container instance's EC2
// instance and the host port mapped to the container port (target type instance).
func (tk *task) targetOf(r lbRef) (string, int) {
	if tk.eni != nil {
		return tk.eni.ip, r.containerPort
	}
	id := ""
	if tk.instance != nil {
		id = tk.instance.ec2ID
	}
	return id, tk.hostPorts[fmt.Sprintf("%s/%d", r.containerName, r.containerPort)]
}

// containerTrack is the health history of a container with a health check, started at start:
// Docker's rules as the HealthCheck API reference
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html) describes
// them — a check every interval, the container HEALTHY at its first passed check, UNHEALTHY after
// `retries` consecutive failures, and failures within startPeriod not counted.
func containerTrack(s *Server, cd containerDef, start time.Time) track {
	hc := cd.HealthCheck
	interval, retries, startPeriod := 30, 3, 0
	if hc.Interval != nil {
		interval = *hc.Interval
	}
	if hc.Retries != nil {
		retries = *hc.Retries
	}
	if hc.StartPeriod != nil {
		startPeriod = *hc.StartPeriod
	}
	r := hcRule{
		interval:             s.scaled(time.Duration(interval) * time.Second),
		healthyFromUnhealthy: 1,
		unhealthyAfter:       retries,
		countFrom:            s.scaled(time.Duration(startPeriod) * time.Second),
	}
	var tr track
	for _, st := range simulate(r, containerBehaviorOf(cd)) {
		state := healthUnknown
		switch st.state {
		case hcHealthy:
			state = healthHealthy
		case hcUnhealthy:
			state = healthUnhealthy
		}
		if len(tr) > 0 && tr[len(tr)-1].state == state {
			continue
		}
		tr = append(tr, healthStep{at: start.Add(st.off), state: state})
	}
	return tr
}

// containerHealth is a container's healthStatus at time at.
func (tk *task) containerHealth(i int, at time.Time) string {
	tr, ok := tk.health[i]
	if !ok {
		return healthUnknown
	}
	if tk.lastStatus == "STOPPED" && !tk.stoppedAt.IsZero() && tk.stoppedAt.Before(at) {
		at = tk.stoppedAt
	}
	return tr.at(at).state
}

// taskHealth is a task's healthStatus: UNHEALTHY if an essential container is, else UNKNOWN if
// one is still being evaluated or none has a health check, else HEALTHY (Task API reference,
// healthStatus, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html). Non-essential containers do
// not count.
func (s *Server) taskHealth(tk *task, at time.Time) string {
	seen, unknown := false, false
	for i, cd := range tk.taskDef.containers {
		if cd.HealthCheck == nil || !cd.essential() {
			continue
		}
		seen = true
		switch tk.containerHealth(i, at) {
		case healthUnhealthy:
			return healthUnhealthy
		case healthUnknown:
			unknown = true
		}
	}
	if !seen || unknown {
		return healthUnknown
	}
	return healthHealthy
}

func (s *Server) gracePeriod(svc *service) time.Duration {
	if svc.gracePeriod == nil {
		return 0
	}
	return s.scaled(time.Duration(*svc.gracePeriod) * time.Second)
}

// scheduleHealthEvents queues an event at each change of a task's health after from, so that the
// scheduler reacts at the instant it happens.
func (s *Server) scheduleHealthEvents(tk *task, tr track, from time.Time) {
	c := s.clusterOf(tk.svc)
	for _, st := range tr {
		if st.at.After(from) {
			s.schedule(&qEvent{at: st.at, kind: evHealth, task: tk, gen: tk.hgen, svc: tk.svc, c: c})
		}
	}
}

// checkHealth is the service scheduler looking at a RUNNING task's health at time at: once the
// service's health check grace period since the task started has passed ("the period of time
// ... that the Amazon ECS service scheduler ignores unhealthy Elastic Load Balancing, VPC
// Lattice, and container health checks after a task has first started", CreateService API
// reference), a target the load balancer reports unhealthy, or an essential container that is
// UNHEALTHY, makes the task unhealthy. The scheduler then replaces it (see reconcileLocked).
func (s *Server) checkHealth(svc *service, tk *task, at time.Time) {
	if tk.lastStatus != "RUNNING" || tk.desiredStatus != "RUNNING" || tk.unhealthy != nil {
		return
	}
	if at.Before(tk.startedAt.Add(s.gracePeriod(svc))) {
		return
	}
	for _, t := range tk.targets {
		if t == nil {
			continue
		}
		if h := t.health.at(at); h.state == tsUnhealthy {
			// "Task failed ELB health checks in (target-group <arn>)", and the service event of
			// "Amazon ECS service unhealthy event messages" (EC2 and Fargate forms).
			where := fmt.Sprintf("(instance %s) ", t.id)
			if svc.fargate() {
				where = ""
			}
			tk.unhealthy = &unhealthyCause{
				at:     at,
				reason: fmt.Sprintf("Task failed ELB health checks in (target-group %s)", t.tg.arn),
				event: fmt.Sprintf("(service %s) (task %s) %s(port %d) is unhealthy in (target-group %s) due to (reason %s).",
					svc.name, tk.id, where, t.port, t.tg.arn, h.description),
			}
			return
		}
	}
	if tk.taskDef.hasHealthCheck() && s.taskHealth(tk, at) == healthUnhealthy {
		tk.unhealthy = &unhealthyCause{
			at:     at,
			reason: "Task failed container health checks",
			event:  fmt.Sprintf("(service %s) (task %s) failed container health checks.", svc.name, tk.id),
		}
	}
}

// beginStop starts stopping a task at t: a PENDING one is STOPPED at once; a RUNNING one behind a
// load balancer is deregistered from its target groups and stays DEACTIVATING while its targets
// drain (the longest deregistration delay of its groups), then STOPPING for the stop delay ("Amazon
// ECS task lifecycle", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html:
// DEACTIVATING, then STOPPING); any other RUNNING one keeps running for the
// stop delay. It returns the target groups it deregistered targets from.
func (s *Server) beginStop(c *cluster, svc *service, tk *task, t time.Time, reason string) []*targetGroup {
	tk.desiredStatus = "STOPPED"
	tk.stoppingAt = t
	tk.stoppedReason = reason
	tk.stopCode = stopCodeScheduler
	tk.gen++
	tk.hgen++
	if tk.lastStatus == "PENDING" {
		// A task that never started has nothing to drain.
		s.finishStop(tk, t)
		return nil
	}
	tgs, drain := s.deregisterTask(tk, t)
	if len(tgs) > 0 {
		tk.lastStatus = "DEACTIVATING"
		s.schedule(&qEvent{at: t.Add(drain), kind: evTaskDrained, task: tk, gen: tk.gen, svc: svc, c: c})
		return tgs
	}
	s.schedule(&qEvent{at: t.Add(s.opts.StopDelay), kind: evTaskStopped, task: tk, gen: tk.gen, svc: svc, c: c})
	return nil
}

// deregisterTask deregisters a task's targets and returns their groups and the longest drain.
func (s *Server) deregisterTask(tk *task, t time.Time) ([]*targetGroup, time.Duration) {
	var tgs []*targetGroup
	var drain time.Duration
	for _, tgt := range tk.targets {
		if tgt == nil || !tgt.removeAt.IsZero() {
			continue
		}
		drain = max(drain, s.deregister(tgt, t))
		if !slices.Contains(tgs, tgt.tg) {
			tgs = append(tgs, tgt.tg)
		}
	}
	return tgs, drain
}

// drainEvents writes the events ECS writes as it deregisters stopped tasks: "(service <name>)
// deregistered <n> targets in (target-group <arn>)" for each group, and "(service <name>, taskSet
// <deployment>) has begun draining connections on <n> tasks." for each deployment (observed ECS
// service events, in that order after "has stopped").
func (s *Server) drainEvents(svc *service, drained []stopped, t time.Time) {
	type count struct {
		key string
		n   int
	}
	var byTG, byDep []count
	add := func(list *[]count, key string) {
		if i := slices.IndexFunc(*list, func(c count) bool { return c.key == key }); i >= 0 {
			(*list)[i].n++
		} else {
			*list = append(*list, count{key, 1})
		}
	}
	for _, d := range drained {
		for _, tg := range d.tgs {
			add(&byTG, tg.arn)
		}
		add(&byDep, d.tk.dep.id)
	}
	for _, c := range byTG {
		s.addEvent(svc, t, fmt.Sprintf("(service %s) deregistered %d targets in (target-group %s)", svc.name, c.n, c.key))
	}
	for _, c := range byDep {
		s.addEvent(svc, t, fmt.Sprintf("(service %s, taskSet %s) has begun draining connections on %d tasks.", svc.name, c.key, c.n))
	}
}

// finishStop makes a task STOPPED at t and frees its host ports.
func (s *Server) finishStop(tk *task, t time.Time) {
	tk.lastStatus = "STOPPED"
	tk.stoppedAt = t
	if tk.finalStopCode != "" {
		tk.stopCode = tk.finalStopCode
	}
	tk.gen++
	tk.hgen++
	tk.release()
}

// ---- container instances ----

type containerInstanceJSON struct {
	ContainerInstanceArn string `json:"containerInstanceArn"`
	Ec2InstanceID        string `json:"ec2InstanceId"`
	Status               string `json:"status"`
	AgentConnected       bool   `json:"agentConnected"`
	RunningTasksCount    int    `json:"runningTasksCount"`
	PendingTasksCount    int    `json:"pendingTasksCount"`
	RegisteredAt         *epoch `json:"registeredAt,omitempty"`
	Version              int    `json:"version"`
}

func (c *cluster) instanceJSON(ci *containerInstance) containerInstanceJSON {
	out := containerInstanceJSON{
		ContainerInstanceArn: ci.arn, Ec2InstanceID: ci.ec2ID, Status: "ACTIVE", AgentConnected: true,
		RegisteredAt: ts(ci.registeredAt), Version: 1,
	}
	for _, svc := range c.services {
		for _, tk := range svc.tasks {
			if tk.instance != ci {
				continue
			}
			// runningTasksCount counts the tasks whose desired status is RUNNING,
			// pendingTasksCount those that are PENDING
			// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerInstance.html).
			if tk.desiredStatus == "RUNNING" && tk.lastStatus != "STOPPED" {
				out.RunningTasksCount++
			}
			if tk.lastStatus == "PENDING" {
				out.PendingTasksCount++
			}
		}
	}
	return out
}

func (s *Server) describeContainerInstances(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		Cluster            string   `json:"cluster"`
		ContainerInstances []string `json:"containerInstances"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 {
		return nil, errf(codeInvalidParameter, "ContainerInstances cannot be empty.")
	}
	if len(in.ContainerInstances) > 100 {
		return nil, errf(codeInvalidParameter, "containerInstances can have at most 100 items.")
	}
	c, err := s.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := struct {
		ContainerInstances []containerInstanceJSON `json:"containerInstances"`
		Failures           []failure               `json:"failures"`
	}{ContainerInstances: []containerInstanceJSON{}, Failures: []failure{}}
	for _, ref := range in.ContainerInstances {
		i := slices.IndexFunc(c.instances, func(ci *containerInstance) bool { return ci.id == lastSegment(ref) })
		if i < 0 {
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "MISSING"})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, c.instanceJSON(c.instances[i]))
	}
	return out, nil
}

func (s *Server) listContainerInstances(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		Cluster    string `json:"cluster"`
		MaxResults *int   `json:"maxResults"`
		NextToken  string `json:"nextToken"`
		Status     string `json:"status"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	arns := []string{}
	if in.Status == "" || in.Status == "ACTIVE" {
		for _, ci := range c.instances {
			arns = append(arns, ci.arn)
		}
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100, codeInvalidParameter, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"containerInstanceArns": page}, "nextToken", next), nil
}
