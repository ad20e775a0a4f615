package ecslocal

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// elbOps maps the Elastic Load Balancing v2 operations ecslocal serves to their handlers.
var elbOps = map[string]queryHandler{
	"CreateLoadBalancer":            (*Server).createLoadBalancer,
	"DescribeLoadBalancers":         (*Server).describeLoadBalancers,
	"DeleteLoadBalancer":            (*Server).deleteLoadBalancer,
	"CreateTargetGroup":             (*Server).createTargetGroup,
	"DescribeTargetGroups":          (*Server).describeTargetGroups,
	"DeleteTargetGroup":             (*Server).deleteTargetGroup,
	"ModifyTargetGroupAttributes":   (*Server).modifyTargetGroupAttributes,
	"DescribeTargetGroupAttributes": (*Server).describeTargetGroupAttributes,
	"CreateListener":                (*Server).createListener,
	"DescribeListeners":             (*Server).describeListeners,
	"ModifyListener":                (*Server).modifyListener,
	"DeleteListener":                (*Server).deleteListener,
	"CreateRule":                    (*Server).createRule,
	"DescribeRules":                 (*Server).describeRules,
	"ModifyRule":                    (*Server).modifyRule,
	"DeleteRule":                    (*Server).deleteRule,
	"RegisterTargets":               (*Server).registerTargets,
	"DeregisterTargets":             (*Server).deregisterTargets,
	"DescribeTargetHealth":          (*Server).describeTargetHealth,
}

// The Elastic Load Balancing error codes ecslocal returns, as the API reference names them (the
// Errors of each action, e.g.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html);
// all are HTTP 400.
const (
	codeValidationError            = "ValidationError"
	codeTargetGroupNotFound        = "TargetGroupNotFound"
	codeLoadBalancerNotFound       = "LoadBalancerNotFound"
	codeListenerNotFound           = "ListenerNotFound"
	codeRuleNotFound               = "RuleNotFound"
	codeDuplicateTargetGroupName   = "DuplicateTargetGroupName"
	codeDuplicateLoadBalancerName  = "DuplicateLoadBalancerName"
	codeDuplicateListener          = "DuplicateListener"
	codeInvalidTarget              = "InvalidTarget"
	codeResourceInUse              = "ResourceInUse"
	codeInvalidConfigRequest       = "InvalidConfigurationRequest"
	codeTargetGroupAssociationLim  = "TargetGroupAssociationLimit"
	codePriorityInUse              = "PriorityInUse"
	codeUnsupportedProtocol        = "UnsupportedProtocol"
	codeInvalidLoadBalancerAction  = "InvalidLoadBalancerAction"
	codeIncompatibleProtocols      = "IncompatibleProtocols"
	defaultDeregistrationDelaySecs = 300
	attrDeregistrationDelay        = "deregistration_delay.timeout_seconds"
)

func elbErr(code, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ---- model ----

type elbTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type loadBalancer struct {
	arn, name, id, lbType, scheme, ipAddressType, dnsName, zoneID, vpcID, region string
	subnets, securityGroups                                                      []string
	zones                                                                        []string // the Availability Zone of each subnet
	createdAt                                                                    time.Time
	tags                                                                         []elbTag
	listeners                                                                    []*listener
}

type listener struct {
	arn          string
	lb           *loadBalancer
	protocol     string
	port         int
	sslPolicy    string
	certificates []string
	alpn         []string
	tags         []elbTag
	rules        []*rule // rules[0] is the default rule, which holds the default actions
}

type rule struct {
	arn        string
	listener   *listener
	priority   string // "default" for the default rule
	conditions []ruleCondition
	actions    []elbAction
	tags       []elbTag
}

func (r *rule) isDefault() bool { return r.priority == "default" }

type ruleCondition struct {
	field      string
	values     []string // Values
	config     string   // the <Field>Config member the values came in, if any
	headerName string   // http-header
	pairs      [][2]string
}

type weightedTG struct {
	arn    string
	weight int
}

type elbAction struct {
	typ          string
	order        *int
	targetGroups []weightedTG // forward
	stickiness   bool
	stickyFor    *int
	fixed        map[string]string // fixed-response: StatusCode, ContentType, MessageBody
	redirect     map[string]string // redirect: Protocol, Port, Host, Path, Query, StatusCode
}

// tgConfig is what CreateTargetGroup sets; a second CreateTargetGroup with the same name succeeds
// only with the same settings.
type tgConfig struct {
	protocol, protocolVersion, targetType, vpcID, ipAddressType string
	port                                                        int
	hcEnabled                                                   bool
	hcProtocol, hcPort, hcPath, matcher                         string
	interval, timeout, healthy, unhealthy                       int
}

type targetGroup struct {
	arn, name string
	tgConfig
	attrs     map[string]string
	tags      []elbTag
	createdAt time.Time
	// lbs are the load balancers whose listeners forward to the group; inUseSince is when the
	// first one started to (zero while none does).
	lbs        []*loadBalancer
	inUseSince time.Time
	targets    []*target
}

// target is a registered target, draining ones included until their deregistration completes.
type target struct {
	id           string
	port         int
	tg           *targetGroup
	registeredAt time.Time
	behavior     healthBehavior
	failure      [2]string // reason and description of a failed check
	task         *task     // the ECS task that registered it, if any
	health       track
	removeAt     time.Time // when a draining target's deregistration completes (zero: registered)
}

func (t *target) gone(now time.Time) bool { return !t.removeAt.IsZero() && !now.Before(t.removeAt) }

type elbState struct {
	lbs       []*loadBalancer
	tgs       []*targetGroup
	listeners map[string]*listener
	rules     map[string]*rule
}

func newELBState() *elbState {
	return &elbState{listeners: map[string]*listener{}, rules: map[string]*rule{}}
}

func (e *elbState) lb(arn string) *loadBalancer {
	for _, lb := range e.lbs {
		if lb.arn == arn {
			return lb
		}
	}
	return nil
}

func (e *elbState) tg(arn string) *targetGroup {
	for _, tg := range e.tgs {
		if tg.arn == arn {
			return tg
		}
	}
	return nil
}

func (s *Server) elbARN(rc *reqCtx, resource string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", rc.region, s.opts.AccountID, resource)
}

// elbName checks a load balancer or target group name: at most 32 alphanumeric characters or
// hyphens, not beginning or ending with a hyphen (CreateLoadBalancer and CreateTargetGroup API
// reference).
var elbNamePattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$`)

func parseTags(q form) ([]elbTag, *apiError) {
	var out []elbTag
	for _, t := range q.structs("Tags") {
		if t.str("Key") == "" {
			return nil, elbErr(codeValidationError, "A tag key must be specified")
		}
		out = append(out, elbTag{Key: t.str("Key"), Value: t.str("Value")})
	}
	return out, nil
}

// paginateELB pages a list with Marker and PageSize (1–400).
func paginateELB[T any](items []T, q form) ([]T, string, *apiError) {
	size, err := q.intp("PageSize")
	if err != nil {
		return nil, "", err
	}
	n := len(items)
	if size != nil {
		if *size < 1 || *size > 400 {
			return nil, "", elbErr(codeValidationError, "1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400", *size)
		}
		n = *size
	}
	start, ok := parsePageToken(q.str("Marker"))
	if !ok || start > len(items) {
		return nil, "", elbErr(codeValidationError, "Invalid marker '%s'", q.str("Marker"))
	}
	end := min(start+n, len(items))
	next := ""
	if end < len(items) {
		next = pageToken(end)
	}
	return items[start:end], next, nil
}

// ---- load balancers ----

type xAZ struct {
	ZoneName string `xml:"ZoneName"`
	SubnetId string `xml:"SubnetId"`
}

type xLBState struct {
	Code string `xml:"Code"`
}

type xLoadBalancer struct {
	LoadBalancerArn       string   `xml:"LoadBalancerArn"`
	DNSName               string   `xml:"DNSName"`
	CanonicalHostedZoneId string   `xml:"CanonicalHostedZoneId,omitempty"`
	CreatedTime           string   `xml:"CreatedTime"`
	LoadBalancerName      string   `xml:"LoadBalancerName"`
	Scheme                string   `xml:"Scheme"`
	VpcId                 string   `xml:"VpcId"`
	State                 xLBState `xml:"State"`
	Type                  string   `xml:"Type"`
	AvailabilityZones     []xAZ    `xml:"AvailabilityZones>member"`
	SecurityGroups        []string `xml:"SecurityGroups>member"`
	IpAddressType         string   `xml:"IpAddressType"`
}

type xLoadBalancers struct {
	LoadBalancers []xLoadBalancer `xml:"LoadBalancers>member"`
	NextMarker    string          `xml:"NextMarker,omitempty"`
}

// hostedZones are the Route 53 hosted zones of load balancers' DNS names, by type and region
// ("Elastic Load Balancing endpoints and quotas"); regions not listed get none.
var hostedZones = map[string]map[string]string{
	"application": {"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-2": "Z1H1FL5HABSF5", "eu-west-1": "Z32O12XQLNTSW2", "eu-central-1": "Z215JYRZR1TBD5"},
	"network":     {"us-east-1": "Z26RNL4JYFTOTI", "us-east-2": "ZLMOA37VPKANP", "us-west-2": "Z18D5FSROUN65G", "eu-west-1": "Z2IFOLAFXWLO4F", "eu-central-1": "Z3F0SRJ5LGBH90"},
}

// ecslocalVPC is the VPC of every load balancer: ecslocal does not emulate VPCs or subnets.
const ecslocalVPC = "vpc-0ec510ca1000000aa"

func (lb *loadBalancer) toXML(state string) xLoadBalancer {
	out := xLoadBalancer{
		LoadBalancerArn: lb.arn, DNSName: lb.dnsName, CanonicalHostedZoneId: lb.zoneID,
		CreatedTime: isoTime(lb.createdAt), LoadBalancerName: lb.name, Scheme: lb.scheme, VpcId: lb.vpcID,
		State: xLBState{Code: state}, Type: lb.lbType, SecurityGroups: lb.securityGroups, IpAddressType: lb.ipAddressType,
	}
	for i, sn := range lb.subnets {
		out.AvailabilityZones = append(out.AvailabilityZones, xAZ{ZoneName: lb.zones[i], SubnetId: sn})
	}
	return out
}

func (s *Server) createLoadBalancer(rc *reqCtx, q form) (any, *apiError) {
	name := q.str("Name")
	switch {
	case name == "":
		return nil, elbErr(codeValidationError, "A load balancer name must be specified")
	case !elbNamePattern.MatchString(name) || strings.HasPrefix(name, "internal-"):
		return nil, elbErr(codeValidationError, "The load balancer name '%s' is not valid: it can have at most 32 alphanumeric characters and hyphens, must not begin or end with a hyphen, and must not begin with 'internal-'", name)
	}
	lbType := q.str("Type")
	if lbType == "" {
		lbType = "application"
	}
	if lbType != "application" && lbType != "network" {
		return nil, elbErr(codeValidationError, "ecslocal emulates only application and network load balancers, not '%s'", lbType)
	}
	scheme := q.str("Scheme")
	if scheme == "" {
		scheme = "internet-facing"
	}
	if scheme != "internet-facing" && scheme != "internal" {
		return nil, elbErr(codeValidationError, "Scheme must be 'internet-facing' or 'internal'")
	}
	ipType := q.str("IpAddressType")
	if ipType == "" {
		ipType = "ipv4"
	}
	subnets := q.list("Subnets")
	for _, m := range q.structs("SubnetMappings") {
		subnets = append(subnets, m.str("SubnetId"))
	}
	// An Application Load Balancer needs subnets in at least two Availability Zones (Subnets,
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
	if lbType == "application" && len(subnets) < 2 {
		return nil, elbErr(codeValidationError, "At least two subnets in two different Availability Zones must be specified")
	}
	if len(subnets) == 0 {
		return nil, elbErr(codeValidationError, "At least one subnet must be specified")
	}
	tags, err := parseTags(q)
	if err != nil {
		return nil, err
	}
	sgs := q.list("SecurityGroups")
	for _, lb := range s.elb.lbs {
		if lb.name != name {
			continue
		}
		// CreateLoadBalancer is idempotent: the same name with the same settings returns the
		// existing load balancer.
		if lb.lbType == lbType && lb.scheme == scheme && slices.Equal(lb.subnets, subnets) && slices.Equal(lb.securityGroups, sgs) {
			return xLoadBalancers{LoadBalancers: []xLoadBalancer{lb.toXML("active")}}, nil
		}
		return nil, elbErr(codeDuplicateLoadBalancerName, "A load balancer with the same name '%s' exists, but with different settings", name)
	}
	id := randomHex(8)
	kind, dns := "app", fmt.Sprintf("%s-%d.%s.elb.amazonaws.com", name, 1000000000+int(randInt(8999999999)), rc.region)
	if lbType == "network" {
		kind, dns = "net", fmt.Sprintf("%s-%s.elb.%s.amazonaws.com", name, id, rc.region)
	}
	if scheme == "internal" {
		dns = "internal-" + dns
	}
	lb := &loadBalancer{
		arn: s.elbARN(rc, fmt.Sprintf("loadbalancer/%s/%s/%s", kind, name, id)), name: name, id: id,
		lbType: lbType, scheme: scheme, ipAddressType: ipType, dnsName: dns, zoneID: hostedZones[lbType][rc.region],
		vpcID: ecslocalVPC, region: rc.region, subnets: subnets, securityGroups: sgs, createdAt: rc.now, tags: tags,
	}
	for _, sn := range subnets {
		lb.zones = append(lb.zones, s.zoneOf(rc.region, sn)) // the zones ECS tasks in these subnets run in
	}
	s.elb.lbs = append(s.elb.lbs, lb)
	// A new load balancer is provisioning when CreateLoadBalancer returns; ecslocal makes it
	// active at once.
	return xLoadBalancers{LoadBalancers: []xLoadBalancer{lb.toXML("provisioning")}}, nil
}

func (s *Server) describeLoadBalancers(rc *reqCtx, q form) (any, *apiError) {
	arns, names := q.list("LoadBalancerArns"), q.list("Names")
	if len(arns) > 0 && len(names) > 0 {
		return nil, elbErr(codeValidationError, "Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	var found []*loadBalancer
	switch {
	case len(arns) > 0:
		for _, a := range arns {
			lb := s.elb.lb(a)
			if lb == nil {
				return nil, elbErr(codeLoadBalancerNotFound, "One or more load balancers not found")
			}
			found = append(found, lb)
		}
	case len(names) > 0:
		for _, n := range names {
			i := slices.IndexFunc(s.elb.lbs, func(lb *loadBalancer) bool { return lb.name == n })
			if i < 0 {
				return nil, elbErr(codeLoadBalancerNotFound, "Load balancers '[%s]' not found", n)
			}
			found = append(found, s.elb.lbs[i])
		}
	default:
		found = s.elb.lbs
	}
	page, next, err := paginateELB(found, q)
	if err != nil {
		return nil, err
	}
	out := xLoadBalancers{NextMarker: next}
	for _, lb := range page {
		out.LoadBalancers = append(out.LoadBalancers, lb.toXML("active"))
	}
	return out, nil
}

// deleteLoadBalancer deletes a load balancer and its listeners. "If the load balancer does not
// exist or has already been deleted, the call succeeds."
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteLoadBalancer.html.)
// Registered targets stay registered; their groups are no longer in use.
func (s *Server) deleteLoadBalancer(rc *reqCtx, q form) (any, *apiError) {
	arn := q.str("LoadBalancerArn")
	if arn == "" {
		return nil, elbErr(codeValidationError, "A load balancer ARN must be specified")
	}
	lb := s.elb.lb(arn)
	if lb == nil {
		return nil, nil
	}
	for _, l := range lb.listeners {
		s.dropListener(l)
	}
	lb.listeners = nil
	s.elb.lbs = slices.DeleteFunc(s.elb.lbs, func(x *loadBalancer) bool { return x == lb })
	s.reassociateLocked(rc.now)
	return nil, nil
}

// ---- target groups ----

type xMatcher struct {
	HttpCode string `xml:"HttpCode"`
}

type xTargetGroup struct {
	TargetGroupArn             string    `xml:"TargetGroupArn"`
	TargetGroupName            string    `xml:"TargetGroupName"`
	Protocol                   string    `xml:"Protocol"`
	Port                       int       `xml:"Port"`
	VpcId                      string    `xml:"VpcId"`
	HealthCheckProtocol        string    `xml:"HealthCheckProtocol"`
	HealthCheckPort            string    `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool      `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int       `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int       `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int       `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int       `xml:"UnhealthyThresholdCount"`
	HealthCheckPath            string    `xml:"HealthCheckPath,omitempty"`
	Matcher                    *xMatcher `xml:"Matcher,omitempty"`
	LoadBalancerArns           []string  `xml:"LoadBalancerArns>member"`
	TargetType                 string    `xml:"TargetType"`
	ProtocolVersion            string    `xml:"ProtocolVersion,omitempty"`
	IpAddressType              string    `xml:"IpAddressType"`
}

type xTargetGroups struct {
	TargetGroups []xTargetGroup `xml:"TargetGroups>member"`
	NextMarker   string         `xml:"NextMarker,omitempty"`
}

func (tg *targetGroup) toXML() xTargetGroup {
	out := xTargetGroup{
		TargetGroupArn: tg.arn, TargetGroupName: tg.name, Protocol: tg.protocol, Port: tg.port, VpcId: tg.vpcID,
		HealthCheckProtocol: tg.hcProtocol, HealthCheckPort: tg.hcPort, HealthCheckEnabled: tg.hcEnabled,
		HealthCheckIntervalSeconds: tg.interval, HealthCheckTimeoutSeconds: tg.timeout,
		HealthyThresholdCount: tg.healthy, UnhealthyThresholdCount: tg.unhealthy, HealthCheckPath: tg.hcPath,
		TargetType: tg.targetType, ProtocolVersion: tg.protocolVersion, IpAddressType: tg.ipAddressType,
	}
	if tg.matcher != "" {
		out.Matcher = &xMatcher{HttpCode: tg.matcher}
	}
	for _, lb := range tg.lbs {
		out.LoadBalancerArns = append(out.LoadBalancerArns, lb.arn)
	}
	return out
}

var (
	tgProtocols = []string{"HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP"}
	// httpLike protocols use HTTP health checks by default; the others TCP.
	httpLike = []string{"HTTP", "HTTPS"}
)

// targetGroupConfig reads and completes CreateTargetGroup's settings with the defaults of the
// CreateTargetGroup API reference
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html):
// target type instance; health checks every 30 s, healthy after 5 and unhealthy after 2
// consecutive results; a timeout of 6 s for HTTP, 10 s for HTTPS, TCP and TLS; HTTP checks of path
// / expecting 200 for HTTP and HTTPS groups, TCP checks otherwise; port traffic-port.
func targetGroupConfig(q form) (tgConfig, *apiError) {
	c := tgConfig{
		protocol: q.str("Protocol"), protocolVersion: q.str("ProtocolVersion"), targetType: q.str("TargetType"),
		vpcID: q.str("VpcId"), ipAddressType: q.str("IpAddressType"), hcEnabled: true,
		hcProtocol: q.str("HealthCheckProtocol"), hcPort: q.str("HealthCheckPort"), hcPath: q.str("HealthCheckPath"),
		matcher: q.str("Matcher.HttpCode"),
	}
	if c.targetType == "" {
		c.targetType = "instance"
	}
	switch c.targetType {
	case "instance", "ip":
	case "lambda", "alb":
		return c, elbErr(codeValidationError, "ecslocal does not emulate target groups of target type '%s'", c.targetType)
	default:
		return c, elbErr(codeValidationError, "1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [instance, ip, lambda, alb]", c.targetType)
	}
	switch {
	case c.protocol == "":
		return c, elbErr(codeValidationError, "A protocol must be specified")
	case !slices.Contains(tgProtocols, c.protocol):
		return c, elbErr(codeValidationError, "1 validation error detected: Value '%s' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE]", c.protocol)
	}
	port, err := q.intp("Port")
	if err != nil {
		return c, err
	}
	switch {
	case port == nil:
		return c, elbErr(codeValidationError, "A port must be specified")
	case *port < 1 || *port > 65535:
		return c, elbErr(codeValidationError, "1 validation error detected: Value '%d' at 'port' failed to satisfy constraint: Member must have value between 1 and 65535", *port)
	}
	c.port = *port
	if c.vpcID == "" {
		return c, elbErr(codeValidationError, "A VPC ID must be specified")
	}
	if c.ipAddressType == "" {
		c.ipAddressType = "ipv4"
	}
	http := slices.Contains(httpLike, c.protocol)
	if http && c.protocolVersion == "" {
		c.protocolVersion = "HTTP1"
	}
	if c.hcProtocol == "" {
		c.hcProtocol = "TCP"
		if http {
			c.hcProtocol = "HTTP"
			if c.protocol == "HTTPS" {
				c.hcProtocol = "HTTPS"
			}
		}
	}
	if http && c.hcProtocol == "TCP" {
		return c, elbErr(codeValidationError, "Health check protocol 'TCP' is not supported for target groups with the '%s' protocol", c.protocol)
	}
	if c.hcPort == "" {
		c.hcPort = "traffic-port"
	}
	if c.hcProtocol != "TCP" {
		if c.hcPath == "" {
			c.hcPath = "/"
		}
		if c.matcher == "" {
			c.matcher = "200"
		}
	}
	ints := []struct {
		key      string
		into     *int
		def      int
		min, max int
	}{
		{"HealthCheckIntervalSeconds", &c.interval, 30, 5, 300},
		{"HealthCheckTimeoutSeconds", &c.timeout, 10, 2, 120},
		{"HealthyThresholdCount", &c.healthy, 5, 2, 10},
		{"UnhealthyThresholdCount", &c.unhealthy, 2, 2, 10},
	}
	if c.protocol == "HTTP" {
		ints[1].def = 6
	}
	timeoutGiven := q.has("HealthCheckTimeoutSeconds")
	for _, f := range ints {
		v, err := q.intp(f.key)
		if err != nil {
			return c, err
		}
		*f.into = f.def
		if v != nil {
			if *v < f.min || *v > f.max {
				return c, elbErr(codeValidationError, "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value between %d and %d", *v, lowerFirst(f.key), f.min, f.max)
			}
			*f.into = *v
		}
	}
	if timeoutGiven && c.timeout >= c.interval {
		return c, elbErr(codeValidationError, "Health check interval must be greater than the timeout.")
	}
	if enabled, err := q.boolp("HealthCheckEnabled"); err != nil {
		return c, err
	} else if enabled != nil && !*enabled {
		// Health checks of instance and ip target groups are always enabled (HealthCheckEnabled).
		return c, elbErr(codeValidationError, "Health check enabled must be true for target groups with target type '%s'", c.targetType)
	}
	return c, nil
}

// defaultTargetGroupAttributes are a new target group's attributes ("Edit target group
// attributes" in the Application and Network Load Balancer guides,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html,
// and TargetGroupAttribute,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html);
// the deregistration delay is 300 seconds.
func defaultTargetGroupAttributes(c tgConfig) map[string]string {
	attrs := map[string]string{
		attrDeregistrationDelay:             strconv.Itoa(defaultDeregistrationDelaySecs),
		"stickiness.enabled":                "false",
		"load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
	}
	if slices.Contains(httpLike, c.protocol) {
		attrs["stickiness.type"] = "lb_cookie"
		attrs["stickiness.lb_cookie.duration_seconds"] = "86400"
		attrs["stickiness.app_cookie.cookie_name"] = ""
		attrs["stickiness.app_cookie.duration_seconds"] = "86400"
		attrs["load_balancing.algorithm.type"] = "round_robin"
		attrs["load_balancing.algorithm.anomaly_mitigation"] = "off"
		attrs["slow_start.duration_seconds"] = "0"
	} else {
		attrs["stickiness.type"] = "source_ip"
		attrs["deregistration_delay.connection_termination.enabled"] = "false"
		attrs["proxy_protocol_v2.enabled"] = "false"
		attrs["preserve_client_ip.enabled"] = strconv.FormatBool(c.targetType == "instance")
		attrs["target_health_state.unhealthy.connection_termination.enabled"] = "true"
	}
	return attrs
}

func (s *Server) createTargetGroup(rc *reqCtx, q form) (any, *apiError) {
	name := q.str("Name")
	switch {
	case name == "":
		return nil, elbErr(codeValidationError, "A target group name must be specified")
	case !elbNamePattern.MatchString(name):
		return nil, elbErr(codeValidationError, "Target group name '%s' can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen", name)
	}
	c, err := targetGroupConfig(q)
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(q)
	if err != nil {
		return nil, err
	}
	for _, tg := range s.elb.tgs {
		if tg.name != name {
			continue
		}
		// "This operation is idempotent ... If you attempt to create multiple target groups with
		// the same settings, each call succeeds."
		// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html.)
		if tg.tgConfig == c {
			return xTargetGroups{TargetGroups: []xTargetGroup{tg.toXML()}}, nil
		}
		return nil, elbErr(codeDuplicateTargetGroupName, "A target group with the same name '%s' exists, but with different settings", name)
	}
	tg := &targetGroup{
		arn: s.elbARN(rc, fmt.Sprintf("targetgroup/%s/%s", name, randomHex(8))), name: name, tgConfig: c,
		attrs: defaultTargetGroupAttributes(c), tags: tags, createdAt: rc.now,
	}
	s.elb.tgs = append(s.elb.tgs, tg)
	return xTargetGroups{TargetGroups: []xTargetGroup{tg.toXML()}}, nil
}

func (s *Server) describeTargetGroups(rc *reqCtx, q form) (any, *apiError) {
	lbArn, arns, names := q.str("LoadBalancerArn"), q.list("TargetGroupArns"), q.list("Names")
	given := 0
	for _, b := range []bool{lbArn != "", len(arns) > 0, len(names) > 0} {
		if b {
			given++
		}
	}
	if given > 1 {
		return nil, elbErr(codeValidationError, "Only one of the LoadBalancerArn, TargetGroupArns or Names parameters can be specified")
	}
	var found []*targetGroup
	switch {
	case lbArn != "":
		lb := s.elb.lb(lbArn)
		if lb == nil {
			return nil, elbErr(codeLoadBalancerNotFound, "One or more load balancers not found")
		}
		for _, tg := range s.elb.tgs {
			if slices.Contains(tg.lbs, lb) {
				found = append(found, tg)
			}
		}
	case len(arns) > 0:
		for _, a := range arns {
			tg := s.elb.tg(a)
			if tg == nil {
				return nil, elbErr(codeTargetGroupNotFound, "One or more target groups not found")
			}
			found = append(found, tg)
		}
	case len(names) > 0:
		for _, n := range names {
			i := slices.IndexFunc(s.elb.tgs, func(tg *targetGroup) bool { return tg.name == n })
			if i < 0 {
				return nil, elbErr(codeTargetGroupNotFound, "One or more target groups not found")
			}
			found = append(found, s.elb.tgs[i])
		}
	default:
		found = s.elb.tgs
	}
	page, next, err := paginateELB(found, q)
	if err != nil {
		return nil, err
	}
	out := xTargetGroups{NextMarker: next}
	for _, tg := range page {
		out.TargetGroups = append(out.TargetGroups, tg.toXML())
	}
	return out, nil
}

// deleteTargetGroup deletes a target group that no action references (DeleteTargetGroup API
// reference: "You can delete a target group if it is not referenced by any actions."); its
// targets are not affected. Deleting a group that does not exist succeeds.
func (s *Server) deleteTargetGroup(rc *reqCtx, q form) (any, *apiError) {
	arn := q.str("TargetGroupArn")
	if arn == "" {
		return nil, elbErr(codeValidationError, "A target group ARN must be specified")
	}
	tg := s.elb.tg(arn)
	if tg == nil {
		return nil, nil
	}
	if len(tg.lbs) > 0 || s.referenced(tg) {
		return nil, elbErr(codeResourceInUse, "Target group '%s' is currently in use by a listener or a rule", arn)
	}
	s.elb.tgs = slices.DeleteFunc(s.elb.tgs, func(x *targetGroup) bool { return x == tg })
	return nil, nil
}

type xAttribute struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xAttributes struct {
	Attributes []xAttribute `xml:"Attributes>member"`
}

func (tg *targetGroup) attributesXML() xAttributes {
	var out xAttributes
	for _, k := range sortedKeys(tg.attrs) {
		out.Attributes = append(out.Attributes, xAttribute{Key: k, Value: tg.attrs[k]})
	}
	return out
}

func (s *Server) describeTargetGroupAttributes(rc *reqCtx, q form) (any, *apiError) {
	tg := s.elb.tg(q.str("TargetGroupArn"))
	if tg == nil {
		return nil, elbErr(codeTargetGroupNotFound, "One or more target groups not found")
	}
	return tg.attributesXML(), nil
}

// modifyTargetGroupAttributes sets attributes of a target group. A new deregistration delay
// applies to targets deregistered afterwards.
func (s *Server) modifyTargetGroupAttributes(rc *reqCtx, q form) (any, *apiError) {
	tg := s.elb.tg(q.str("TargetGroupArn"))
	if tg == nil {
		return nil, elbErr(codeTargetGroupNotFound, "One or more target groups not found")
	}
	attrs := q.structs("Attributes")
	if len(attrs) == 0 {
		return nil, elbErr(codeValidationError, "Attributes must be specified")
	}
	next := map[string]string{}
	for k, v := range tg.attrs {
		next[k] = v
	}
	for _, a := range attrs {
		k, v := a.str("Key"), a.str("Value")
		if _, ok := tg.attrs[k]; !ok {
			return nil, elbErr(codeInvalidConfigRequest, "Target group attribute key '%s' is not recognized", k)
		}
		if k == attrDeregistrationDelay {
			// The range is 0–3600 seconds (target group attributes, deregistration delay).
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 3600 {
				return nil, elbErr(codeInvalidConfigRequest, "Target group attribute '%s' value '%s' must be an integer between 0 and 3600", k, v)
			}
			v = strconv.Itoa(n)
		}
		next[k] = v
	}
	tg.attrs = next
	return tg.attributesXML(), nil
}

// deregistrationDelay is the group's deregistration delay, scaled by the server's time scale.
func (s *Server) deregistrationDelay(tg *targetGroup) time.Duration {
	n, err := strconv.Atoi(tg.attrs[attrDeregistrationDelay])
	if err != nil {
		n = defaultDeregistrationDelaySecs
	}
	return s.scaled(time.Duration(n) * time.Second)
}

// ---- listeners and rules ----

type xTGTuple struct {
	TargetGroupArn string `xml:"TargetGroupArn"`
	Weight         int    `xml:"Weight"`
}

type xStickiness struct {
	Enabled         bool `xml:"Enabled"`
	DurationSeconds *int `xml:"DurationSeconds,omitempty"`
}

type xForward struct {
	TargetGroups                []xTGTuple  `xml:"TargetGroups>member"`
	TargetGroupStickinessConfig xStickiness `xml:"TargetGroupStickinessConfig"`
}

type xFixedResponse struct {
	StatusCode  string `xml:"StatusCode"`
	ContentType string `xml:"ContentType,omitempty"`
	MessageBody string `xml:"MessageBody,omitempty"`
}

type xRedirect struct {
	Protocol   string `xml:"Protocol"`
	Port       string `xml:"Port"`
	Host       string `xml:"Host"`
	Path       string `xml:"Path"`
	Query      string `xml:"Query"`
	StatusCode string `xml:"StatusCode"`
}

type xAction struct {
	Type                string          `xml:"Type"`
	TargetGroupArn      string          `xml:"TargetGroupArn,omitempty"`
	Order               *int            `xml:"Order,omitempty"`
	ForwardConfig       *xForward       `xml:"ForwardConfig,omitempty"`
	FixedResponseConfig *xFixedResponse `xml:"FixedResponseConfig,omitempty"`
	RedirectConfig      *xRedirect      `xml:"RedirectConfig,omitempty"`
}

func (a elbAction) toXML() xAction {
	out := xAction{Type: a.typ, Order: a.order}
	switch a.typ {
	case "forward":
		f := &xForward{TargetGroupStickinessConfig: xStickiness{Enabled: a.stickiness, DurationSeconds: a.stickyFor}}
		for _, t := range a.targetGroups {
			f.TargetGroups = append(f.TargetGroups, xTGTuple{TargetGroupArn: t.arn, Weight: t.weight})
		}
		out.ForwardConfig = f
		if len(a.targetGroups) == 1 {
			out.TargetGroupArn = a.targetGroups[0].arn
		}
	case "fixed-response":
		out.FixedResponseConfig = &xFixedResponse{StatusCode: a.fixed["StatusCode"], ContentType: a.fixed["ContentType"], MessageBody: a.fixed["MessageBody"]}
	case "redirect":
		r := a.redirect
		out.RedirectConfig = &xRedirect{Protocol: r["Protocol"], Port: r["Port"], Host: r["Host"], Path: r["Path"], Query: r["Query"], StatusCode: r["StatusCode"]}
	}
	return out
}

// parseActions reads a list of actions (DefaultActions or Actions): forward (to one target group,
// or weighted to several), fixed-response and redirect. Every target group must exist.
func (s *Server) parseActions(q form, key string) ([]elbAction, *apiError) {
	raw := q.structs(key)
	if len(raw) == 0 {
		return nil, elbErr(codeValidationError, "At least one action must be specified")
	}
	var out []elbAction
	for _, a := range raw {
		act := elbAction{typ: a.str("Type")}
		order, err := a.intp("Order")
		if err != nil {
			return nil, err
		}
		act.order = order
		switch act.typ {
		case "forward":
			if tg := a.str("TargetGroupArn"); tg != "" {
				act.targetGroups = append(act.targetGroups, weightedTG{arn: tg, weight: 1})
			}
			fc := a.sub("ForwardConfig")
			if tuples := fc.structs("TargetGroups"); len(tuples) > 0 {
				if len(act.targetGroups) > 0 && (len(tuples) != 1 || tuples[0].str("TargetGroupArn") != act.targetGroups[0].arn) {
					return nil, elbErr(codeValidationError, "You cannot specify both a target group ARN and a forward config with different target groups")
				}
				act.targetGroups = nil
				for _, t := range tuples {
					w, err := t.intp("Weight")
					if err != nil {
						return nil, err
					}
					weight := 1
					if w != nil {
						if *w < 0 || *w > 999 {
							return nil, elbErr(codeValidationError, "Target group weights must be between 0 and 999")
						}
						weight = *w
					}
					act.targetGroups = append(act.targetGroups, weightedTG{arn: t.str("TargetGroupArn"), weight: weight})
				}
			}
			if len(act.targetGroups) == 0 {
				return nil, elbErr(codeValidationError, "A target group ARN must be specified for a forward action")
			}
			if len(act.targetGroups) > 5 {
				return nil, elbErr(codeValidationError, "A forward action can have at most 5 target groups")
			}
			for _, t := range act.targetGroups {
				if s.elb.tg(t.arn) == nil {
					return nil, elbErr(codeTargetGroupNotFound, "Target group '%s' not found", t.arn)
				}
			}
			sticky, err := fc.boolp("TargetGroupStickinessConfig.Enabled")
			if err != nil {
				return nil, err
			}
			act.stickiness = sticky != nil && *sticky
			if act.stickyFor, err = fc.intp("TargetGroupStickinessConfig.DurationSeconds"); err != nil {
				return nil, err
			}
		case "fixed-response":
			act.fixed = map[string]string{}
			for _, k := range []string{"StatusCode", "ContentType", "MessageBody"} {
				act.fixed[k] = a.str("FixedResponseConfig." + k)
			}
			if act.fixed["StatusCode"] == "" {
				return nil, elbErr(codeValidationError, "A status code must be specified for a fixed-response action")
			}
		case "redirect":
			act.redirect = map[string]string{"Protocol": "#{protocol}", "Port": "#{port}", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}"}
			for _, k := range []string{"Protocol", "Port", "Host", "Path", "Query", "StatusCode"} {
				if a.has("RedirectConfig." + k) {
					act.redirect[k] = a.str("RedirectConfig." + k)
				}
			}
			if act.redirect["StatusCode"] != "HTTP_301" && act.redirect["StatusCode"] != "HTTP_302" {
				return nil, elbErr(codeValidationError, "A redirect action's status code must be HTTP_301 or HTTP_302")
			}
		case "":
			return nil, elbErr(codeValidationError, "An action type must be specified")
		default:
			return nil, elbErr(codeInvalidLoadBalancerAction, "ecslocal does not emulate actions of type '%s'", act.typ)
		}
		out = append(out, act)
	}
	return out, nil
}

// checkActionsFor checks that a load balancer may forward to the actions' target groups: an
// Application Load Balancer's target group can be used by only one load balancer ("Load
// balancers per target group: 1", quotas for Application Load Balancers).
func (s *Server) checkActionsFor(lb *loadBalancer, acts []elbAction) *apiError {
	for _, a := range acts {
		for _, t := range a.targetGroups {
			tg := s.elb.tg(t.arn)
			for _, other := range tg.lbs {
				if other != lb {
					return elbErr(codeTargetGroupAssociationLim, "The following target groups cannot be associated with more than one load balancer: %s", t.arn)
				}
			}
			if (lb.lbType == "application") != slices.Contains(httpLike, tg.protocol) {
				return elbErr(codeIncompatibleProtocols, "The target group '%s' uses protocol %s, which a %s load balancer does not support", t.arn, tg.protocol, lb.lbType)
			}
		}
	}
	return nil
}

type xCertificate struct {
	CertificateArn string `xml:"CertificateArn"`
}

type xListener struct {
	ListenerArn     string         `xml:"ListenerArn"`
	LoadBalancerArn string         `xml:"LoadBalancerArn"`
	Port            int            `xml:"Port"`
	Protocol        string         `xml:"Protocol"`
	Certificates    []xCertificate `xml:"Certificates>member"`
	SslPolicy       string         `xml:"SslPolicy,omitempty"`
	DefaultActions  []xAction      `xml:"DefaultActions>member"`
	AlpnPolicy      []string       `xml:"AlpnPolicy>member"`
}

type xListeners struct {
	Listeners  []xListener `xml:"Listeners>member"`
	NextMarker string      `xml:"NextMarker,omitempty"`
}

func (l *listener) toXML() xListener {
	out := xListener{ListenerArn: l.arn, LoadBalancerArn: l.lb.arn, Port: l.port, Protocol: l.protocol, SslPolicy: l.sslPolicy, AlpnPolicy: l.alpn}
	for _, c := range l.certificates {
		out.Certificates = append(out.Certificates, xCertificate{CertificateArn: c})
	}
	for _, a := range l.rules[0].actions {
		out.DefaultActions = append(out.DefaultActions, a.toXML())
	}
	return out
}

// listenerSettings reads a listener's protocol, port and certificates, checking them against the
// load balancer's type (HTTP or HTTPS for an Application Load Balancer; TCP, TLS, UDP or TCP_UDP
// for a Network Load Balancer; a certificate for HTTPS and TLS).
func listenerSettings(q form, lb *loadBalancer, l *listener) *apiError {
	if p := q.str("Protocol"); p != "" {
		l.protocol = p
	}
	if l.protocol == "" {
		l.protocol = "HTTP"
		if lb.lbType == "network" {
			l.protocol = "TCP"
		}
	}
	ok := []string{"HTTP", "HTTPS"}
	if lb.lbType == "network" {
		ok = []string{"TCP", "TLS", "UDP", "TCP_UDP"}
	}
	if !slices.Contains(ok, l.protocol) {
		return elbErr(codeUnsupportedProtocol, "Protocol '%s' is not supported by a load balancer of type '%s'", l.protocol, lb.lbType)
	}
	port, err := q.intp("Port")
	if err != nil {
		return err
	}
	if port != nil {
		l.port = *port
	}
	if l.port < 1 || l.port > 65535 {
		return elbErr(codeValidationError, "A listener port between 1 and 65535 must be specified")
	}
	if certs := q.structs("Certificates"); len(certs) > 0 {
		l.certificates = nil
		for _, c := range certs {
			l.certificates = append(l.certificates, c.str("CertificateArn"))
		}
	}
	if p := q.str("SslPolicy"); p != "" {
		l.sslPolicy = p
	}
	if l.protocol == "HTTPS" || l.protocol == "TLS" {
		if len(l.certificates) == 0 {
			return elbErr(codeValidationError, "A certificate must be specified for %s listeners", l.protocol)
		}
		if l.sslPolicy == "" {
			l.sslPolicy = "ELBSecurityPolicy-2016-08"
		}
	} else {
		l.certificates, l.sslPolicy = nil, ""
	}
	if alpn := q.list("AlpnPolicy"); len(alpn) > 0 {
		l.alpn = alpn
	}
	return nil
}

func (s *Server) createListener(rc *reqCtx, q form) (any, *apiError) {
	lb := s.elb.lb(q.str("LoadBalancerArn"))
	if lb == nil {
		return nil, elbErr(codeLoadBalancerNotFound, "One or more load balancers not found")
	}
	l := &listener{lb: lb}
	if err := listenerSettings(q, lb, l); err != nil {
		return nil, err
	}
	acts, err := s.parseActions(q, "DefaultActions")
	if err != nil {
		return nil, err
	}
	if err := s.checkActionsFor(lb, acts); err != nil {
		return nil, err
	}
	tags, err := parseTags(q)
	if err != nil {
		return nil, err
	}
	for _, other := range lb.listeners {
		if other.port != l.port {
			continue
		}
		// CreateListener is idempotent for the same settings.
		if other.protocol == l.protocol && actionsEqual(other.rules[0].actions, acts) {
			return xListeners{Listeners: []xListener{other.toXML()}}, nil
		}
		return nil, elbErr(codeDuplicateListener, "A listener already exists on this port for this load balancer '%s'", lb.arn)
	}
	kind := "app"
	if lb.lbType == "network" {
		kind = "net"
	}
	id := randomHex(8)
	l.arn = s.elbARN(rc, fmt.Sprintf("listener/%s/%s/%s/%s", kind, lb.name, lb.id, id))
	l.tags = tags
	def := &rule{arn: s.elbARN(rc, fmt.Sprintf("listener-rule/%s/%s/%s/%s/%s", kind, lb.name, lb.id, id, randomHex(8))), listener: l, priority: "default", actions: acts}
	l.rules = []*rule{def}
	lb.listeners = append(lb.listeners, l)
	s.elb.listeners[l.arn] = l
	s.elb.rules[def.arn] = def
	s.reassociateLocked(rc.now)
	return xListeners{Listeners: []xListener{l.toXML()}}, nil
}

func actionsEqual(a, b []elbAction) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].typ != b[i].typ || !slices.Equal(a[i].targetGroups, b[i].targetGroups) {
			return false
		}
	}
	return true
}

func (s *Server) describeListeners(rc *reqCtx, q form) (any, *apiError) {
	lbArn, arns := q.str("LoadBalancerArn"), q.list("ListenerArns")
	var found []*listener
	switch {
	case lbArn != "" && len(arns) > 0:
		return nil, elbErr(codeValidationError, "Listener ARNs and a load balancer ARN cannot be specified at the same time")
	case lbArn != "":
		lb := s.elb.lb(lbArn)
		if lb == nil {
			return nil, elbErr(codeLoadBalancerNotFound, "One or more load balancers not found")
		}
		found = lb.listeners
	case len(arns) > 0:
		for _, a := range arns {
			l := s.elb.listeners[a]
			if l == nil {
				return nil, elbErr(codeListenerNotFound, "One or more listeners not found")
			}
			found = append(found, l)
		}
	default:
		return nil, elbErr(codeValidationError, "You must specify either listener ARNs or a load balancer ARN")
	}
	page, next, err := paginateELB(found, q)
	if err != nil {
		return nil, err
	}
	out := xListeners{NextMarker: next}
	for _, l := range page {
		out.Listeners = append(out.Listeners, l.toXML())
	}
	return out, nil
}

// modifyListener changes a listener's port, protocol, certificates or default actions, for
// example the weights of a weighted forward.
func (s *Server) modifyListener(rc *reqCtx, q form) (any, *apiError) {
	l := s.elb.listeners[q.str("ListenerArn")]
	if l == nil {
		return nil, elbErr(codeListenerNotFound, "One or more listeners not found")
	}
	next := *l
	if err := listenerSettings(q, l.lb, &next); err != nil {
		return nil, err
	}
	for _, other := range l.lb.listeners {
		if other != l && other.port == next.port {
			return nil, elbErr(codeDuplicateListener, "A listener already exists on this port for this load balancer '%s'", l.lb.arn)
		}
	}
	acts := l.rules[0].actions
	if len(q.structs("DefaultActions")) > 0 {
		var err *apiError
		if acts, err = s.parseActions(q, "DefaultActions"); err != nil {
			return nil, err
		}
		if err := s.checkActionsFor(l.lb, acts); err != nil {
			return nil, err
		}
	}
	l.protocol, l.port, l.certificates, l.sslPolicy, l.alpn = next.protocol, next.port, next.certificates, next.sslPolicy, next.alpn
	l.rules[0].actions = acts
	s.reassociateLocked(rc.now)
	return xListeners{Listeners: []xListener{l.toXML()}}, nil
}

// deleteListener deletes a listener and its rules.
func (s *Server) deleteListener(rc *reqCtx, q form) (any, *apiError) {
	l := s.elb.listeners[q.str("ListenerArn")]
	if l == nil {
		return nil, elbErr(codeListenerNotFound, "One or more listeners not found")
	}
	s.dropListener(l)
	l.lb.listeners = slices.DeleteFunc(l.lb.listeners, func(x *listener) bool { return x == l })
	s.reassociateLocked(rc.now)
	return nil, nil
}

func (s *Server) dropListener(l *listener) {
	for _, r := range l.rules {
		delete(s.elb.rules, r.arn)
	}
	delete(s.elb.listeners, l.arn)
}

type xCondition struct {
	Field                   string        `xml:"Field"`
	Values                  []string      `xml:"Values>member"`
	PathPatternConfig       *xValues      `xml:"PathPatternConfig,omitempty"`
	HostHeaderConfig        *xValues      `xml:"HostHeaderConfig,omitempty"`
	HttpRequestMethodConfig *xValues      `xml:"HttpRequestMethodConfig,omitempty"`
	SourceIpConfig          *xValues      `xml:"SourceIpConfig,omitempty"`
	HttpHeaderConfig        *xHeaderValue `xml:"HttpHeaderConfig,omitempty"`
	QueryStringConfig       *xQueryValues `xml:"QueryStringConfig,omitempty"`
}

type xValues struct {
	Values []string `xml:"Values>member"`
}

type xHeaderValue struct {
	HttpHeaderName string   `xml:"HttpHeaderName"`
	Values         []string `xml:"Values>member"`
}

type xKeyValue struct {
	Key   string `xml:"Key,omitempty"`
	Value string `xml:"Value"`
}

type xQueryValues struct {
	Values []xKeyValue `xml:"Values>member"`
}

type xRule struct {
	RuleArn    string       `xml:"RuleArn"`
	Priority   string       `xml:"Priority"`
	Conditions []xCondition `xml:"Conditions>member"`
	Actions    []xAction    `xml:"Actions>member"`
	IsDefault  bool         `xml:"IsDefault"`
}

type xRules struct {
	Rules      []xRule `xml:"Rules>member"`
	NextMarker string  `xml:"NextMarker,omitempty"`
}

var conditionConfigs = map[string]string{
	"path-pattern": "PathPatternConfig", "host-header": "HostHeaderConfig", "http-request-method": "HttpRequestMethodConfig",
	"source-ip": "SourceIpConfig", "http-header": "HttpHeaderConfig", "query-string": "QueryStringConfig",
}

func parseConditions(q form) ([]ruleCondition, *apiError) {
	var out []ruleCondition
	for _, c := range q.structs("Conditions") {
		rc := ruleCondition{field: c.str("Field"), values: c.list("Values")}
		cfg, ok := conditionConfigs[rc.field]
		if !ok {
			return nil, elbErr(codeValidationError, "Condition field '%s' is not valid", rc.field)
		}
		sub := c.sub(cfg)
		switch rc.field {
		case "http-header":
			rc.config, rc.headerName, rc.values = cfg, sub.str("HttpHeaderName"), sub.list("Values")
		case "query-string":
			rc.config = cfg
			for _, kv := range sub.structs("Values") {
				rc.pairs = append(rc.pairs, [2]string{kv.str("Key"), kv.str("Value")})
			}
		default:
			if v := sub.list("Values"); len(v) > 0 {
				rc.config, rc.values = cfg, v
			}
		}
		if len(rc.values) == 0 && len(rc.pairs) == 0 {
			return nil, elbErr(codeValidationError, "A condition of field '%s' must have values", rc.field)
		}
		out = append(out, rc)
	}
	return out, nil
}

func (c ruleCondition) toXML() xCondition {
	out := xCondition{Field: c.field}
	v := &xValues{Values: c.values}
	switch c.config {
	case "":
		out.Values = c.values
	case "PathPatternConfig":
		out.Values, out.PathPatternConfig = c.values, v
	case "HostHeaderConfig":
		out.Values, out.HostHeaderConfig = c.values, v
	case "HttpRequestMethodConfig":
		out.HttpRequestMethodConfig = v
	case "SourceIpConfig":
		out.SourceIpConfig = v
	case "HttpHeaderConfig":
		out.HttpHeaderConfig = &xHeaderValue{HttpHeaderName: c.headerName, Values: c.values}
	case "QueryStringConfig":
		qs := &xQueryValues{}
		for _, p := range c.pairs {
			qs.Values = append(qs.Values, xKeyValue{Key: p[0], Value: p[1]})
		}
		out.QueryStringConfig = qs
	}
	return out
}

func (r *rule) toXML() xRule {
	out := xRule{RuleArn: r.arn, Priority: r.priority, IsDefault: r.isDefault()}
	for _, c := range r.conditions {
		out.Conditions = append(out.Conditions, c.toXML())
	}
	for _, a := range r.actions {
		out.Actions = append(out.Actions, a.toXML())
	}
	return out
}

func (s *Server) createRule(rc *reqCtx, q form) (any, *apiError) {
	l := s.elb.listeners[q.str("ListenerArn")]
	if l == nil {
		return nil, elbErr(codeListenerNotFound, "One or more listeners not found")
	}
	if l.lb.lbType != "application" {
		return nil, elbErr(codeValidationError, "Rules are supported only by listeners of Application Load Balancers")
	}
	prio, err := q.intp("Priority")
	if err != nil {
		return nil, err
	}
	if prio == nil || *prio < 1 || *prio > 50000 {
		return nil, elbErr(codeValidationError, "A rule priority between 1 and 50000 must be specified")
	}
	p := strconv.Itoa(*prio)
	for _, r := range l.rules {
		if r.priority == p {
			return nil, elbErr(codePriorityInUse, "Priority '%s' is currently in use", p)
		}
	}
	conds, err := parseConditions(q)
	if err != nil {
		return nil, err
	}
	if len(conds) == 0 {
		return nil, elbErr(codeValidationError, "A rule must have at least one condition")
	}
	acts, err := s.parseActions(q, "Actions")
	if err != nil {
		return nil, err
	}
	if err := s.checkActionsFor(l.lb, acts); err != nil {
		return nil, err
	}
	tags, err := parseTags(q)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(l.arn, "/")
	r := &rule{
		arn:      s.elbARN(rc, fmt.Sprintf("listener-rule/app/%s/%s/%s/%s", l.lb.name, l.lb.id, parts[len(parts)-1], randomHex(8))),
		listener: l, priority: p, conditions: conds, actions: acts, tags: tags,
	}
	l.rules = append(l.rules, r)
	s.elb.rules[r.arn] = r
	s.reassociateLocked(rc.now)
	return xRules{Rules: []xRule{r.toXML()}}, nil
}

func (s *Server) describeRules(rc *reqCtx, q form) (any, *apiError) {
	lArn, arns := q.str("ListenerArn"), q.list("RuleArns")
	var found []*rule
	switch {
	case lArn != "" && len(arns) > 0:
		return nil, elbErr(codeValidationError, "Rule ARNs and a listener ARN cannot be specified at the same time")
	case lArn != "":
		l := s.elb.listeners[lArn]
		if l == nil {
			return nil, elbErr(codeListenerNotFound, "One or more listeners not found")
		}
		// Rules in priority order, the default rule last.
		found = append(found, l.rules[1:]...)
		slices.SortStableFunc(found, func(a, b *rule) int {
			x, _ := strconv.Atoi(a.priority)
			y, _ := strconv.Atoi(b.priority)
			return x - y
		})
		found = append(found, l.rules[0])
	case len(arns) > 0:
		for _, a := range arns {
			r := s.elb.rules[a]
			if r == nil {
				return nil, elbErr(codeRuleNotFound, "One or more rules not found")
			}
			found = append(found, r)
		}
	default:
		return nil, elbErr(codeValidationError, "You must specify either listener ARN or rule ARNs")
	}
	page, next, err := paginateELB(found, q)
	if err != nil {
		return nil, err
	}
	out := xRules{NextMarker: next}
	for _, r := range page {
		out.Rules = append(out.Rules, r.toXML())
	}
	return out, nil
}

// modifyRule replaces a rule's conditions or actions; the default rule's conditions cannot be
// changed.
func (s *Server) modifyRule(rc *reqCtx, q form) (any, *apiError) {
	r := s.elb.rules[q.str("RuleArn")]
	if r == nil {
		return nil, elbErr(codeRuleNotFound, "One or more rules not found")
	}
	conds := r.conditions
	if len(q.structs("Conditions")) > 0 {
		if r.isDefault() {
			return nil, elbErr(codeValidationError, "The conditions of a default rule cannot be modified")
		}
		var err *apiError
		if conds, err = parseConditions(q); err != nil {
			return nil, err
		}
	}
	acts := r.actions
	if len(q.structs("Actions")) > 0 {
		var err *apiError
		if acts, err = s.parseActions(q, "Actions"); err != nil {
			return nil, err
		}
		if err := s.checkActionsFor(r.listener.lb, acts); err != nil {
			return nil, err
		}
	}
	r.conditions, r.actions = conds, acts
	s.reassociateLocked(rc.now)
	return xRules{Rules: []xRule{r.toXML()}}, nil
}

func (s *Server) deleteRule(rc *reqCtx, q form) (any, *apiError) {
	r := s.elb.rules[q.str("RuleArn")]
	if r == nil {
		return nil, elbErr(codeRuleNotFound, "One or more rules not found")
	}
	if r.isDefault() {
		return nil, elbErr(codeOperationNotPermitted, "Default rules cannot be deleted")
	}
	l := r.listener
	l.rules = slices.DeleteFunc(l.rules, func(x *rule) bool { return x == r })
	delete(s.elb.rules, r.arn)
	s.reassociateLocked(rc.now)
	return nil, nil
}

const codeOperationNotPermitted = "OperationNotPermitted"

// referenced tells whether any rule of any listener forwards to tg.
func (s *Server) referenced(tg *targetGroup) bool {
	for _, r := range s.elb.rules {
		for _, a := range r.actions {
			for _, t := range a.targetGroups {
				if t.arn == tg.arn {
					return true
				}
			}
		}
	}
	return false
}

// reassociateLocked recomputes which load balancers forward to each target group. A group that
// starts to be used by a load balancer starts health checking its targets; one that stops being
// used reports its targets unused (Target.NotInUse).
func (s *Server) reassociateLocked(now time.Time) {
	for _, tg := range s.elb.tgs {
		var lbs []*loadBalancer
		for _, lb := range s.elb.lbs {
			used := false
			for _, l := range lb.listeners {
				for _, r := range l.rules {
					for _, a := range r.actions {
						for _, t := range a.targetGroups {
							used = used || t.arn == tg.arn
						}
					}
				}
			}
			if used {
				lbs = append(lbs, lb)
			}
		}
		was := len(tg.lbs) > 0
		tg.lbs = lbs
		switch is := len(lbs) > 0; {
		case is && !was:
			tg.inUseSince = now
			for _, t := range tg.targets {
				if t.removeAt.IsZero() {
					s.startChecks(t, now)
				}
			}
		case !is && was:
			tg.inUseSince = time.Time{}
			for _, t := range tg.targets {
				if t.removeAt.IsZero() {
					t.health = append(t.health.cut(now), healthStep{at: now, state: tsUnused, reason: reasonNotInUse, description: descNotInUse})
				}
			}
		}
	}
}

// ---- targets ----

type xTarget struct {
	Id               string `xml:"Id"`
	Port             int    `xml:"Port"`
	AvailabilityZone string `xml:"AvailabilityZone,omitempty"`
}

type xTargetHealth struct {
	State       string `xml:"State"`
	Reason      string `xml:"Reason,omitempty"`
	Description string `xml:"Description,omitempty"`
}

type xTargetHealthDescription struct {
	Target          xTarget       `xml:"Target"`
	HealthCheckPort string        `xml:"HealthCheckPort"`
	TargetHealth    xTargetHealth `xml:"TargetHealth"`
}

type xTargetHealthDescriptions struct {
	TargetHealthDescriptions []xTargetHealthDescription `xml:"TargetHealthDescriptions>member"`
}

// healthRule is the health checker of a target group: checks every HealthCheckIntervalSeconds
// (scaled); a new target is healthy after one passed check ("After you register a target, it must
// pass one health check to be considered healthy", "Health checks for Application Load Balancer
// target groups"); an unhealthy one after HealthyThresholdCount consecutive passes; any target is
// unhealthy after UnhealthyThresholdCount consecutive failures.
func (s *Server) healthRule(tg *targetGroup) hcRule {
	return hcRule{
		interval:             s.scaled(time.Duration(tg.interval) * time.Second),
		healthyFromUnhealthy: tg.healthy,
		unhealthyAfter:       tg.unhealthy,
	}
}

// failureOf is the reason and description a target's failed check reports: nothing answering
// is a timeout; an application that answers 502 fails an HTTP check with
// Target.ResponseCodeMismatch (and passes it if the matcher accepts 502); a TCP check of an
// application labelled unhealthy reports Target.FailedHealthChecks.
func failureOf(tg *targetGroup, b healthBehavior) (healthBehavior, [2]string) {
	switch {
	case b.kind == noResponse:
		return b, [2]string{reasonTimeout, descTimeout}
	case tg.hcProtocol == "TCP":
		return b, [2]string{reasonFailedChecks, descFailedChecks}
	case matches(tg.matcher, unhealthyHTTPCode):
		return healthBehavior{kind: alwaysHealthy}, [2]string{}
	}
	return b, [2]string{reasonCodeMismatch, fmt.Sprintf("Health checks failed with these codes: [%d]", unhealthyHTTPCode)}
}

// matches tells whether an HttpCode matcher ("200", "200,202", "200-299") accepts code.
func matches(matcher string, code int) bool {
	for _, part := range strings.Split(matcher, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		if code >= a && code <= b {
			return true
		}
	}
	return false
}

// startChecks starts health checking a target at time from: its health from then on follows
// from its behavior and the group's health check settings.
func (s *Server) startChecks(t *target, from time.Time) {
	b, failure := failureOf(t.tg, t.behavior)
	t.failure = failure
	var steps track
	for _, st := range simulate(s.healthRule(t.tg), b) {
		hs := healthStep{at: from.Add(st.off)}
		switch st.state {
		case hcInitial:
			hs.state, hs.reason, hs.description = tsInitial, reasonRegistration, descRegistration
			if st.checked {
				hs.reason, hs.description = reasonInitialChecks, descInitialChecks
			}
		case hcHealthy:
			hs.state = tsHealthy
		case hcUnhealthy:
			hs.state, hs.reason, hs.description = tsUnhealthy, failure[0], failure[1]
		}
		steps = append(steps, hs)
	}
	t.health = append(t.health.cut(from), steps...)
	if t.task != nil {
		s.scheduleHealthEvents(t.task, t.health, from)
	}
}

// register registers a target with a group at time now (a target already registered, draining
// or not, starts over).
func (s *Server) register(tg *targetGroup, id string, port int, b healthBehavior, tk *task, now time.Time) *target {
	tg.targets = slices.DeleteFunc(tg.targets, func(t *target) bool { return t.gone(now) || (t.id == id && t.port == port) })
	t := &target{id: id, port: port, tg: tg, registeredAt: now, behavior: b, task: tk}
	tg.targets = append(tg.targets, t)
	if len(tg.lbs) > 0 {
		s.startChecks(t, now)
	} else {
		t.health = track{{at: now, state: tsUnused, reason: reasonNotInUse, description: descNotInUse}}
	}
	return t
}

// deregister starts deregistering a target at now and returns how long its deregistration takes.
// A target of a group in use drains for the group's deregistration delay (it is reported draining
// for the whole delay, "Deregistration delay",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay);
// one of a group that no load balancer uses is gone at once.
func (s *Server) deregister(t *target, now time.Time) time.Duration {
	if !t.removeAt.IsZero() {
		return max(0, t.removeAt.Sub(now))
	}
	if len(t.tg.lbs) == 0 {
		t.removeAt = now
		return 0
	}
	d := s.deregistrationDelay(t.tg)
	t.removeAt = now.Add(d)
	t.health = append(t.health.cut(now), healthStep{at: now, state: tsDraining, reason: reasonDeregistration, description: descDeregistration})
	return d
}

// targetsOf reads the Targets of RegisterTargets, DeregisterTargets and DescribeTargetHealth,
// checking each ID against the group's target type: an IPv4 address for ip, an EC2 instance ID
// for instance.
func targetsOf(q form, tg *targetGroup, required bool) ([]xTarget, *apiError) {
	raw := q.structs("Targets")
	if required && len(raw) == 0 {
		return nil, elbErr(codeValidationError, "Targets must be specified")
	}
	var out []xTarget
	for _, r := range raw {
		t := xTarget{Id: r.str("Id"), Port: tg.port, AvailabilityZone: r.str("AvailabilityZone")}
		p, err := r.intp("Port")
		if err != nil {
			return nil, err
		}
		if p != nil {
			if *p < 1 || *p > 65535 {
				return nil, elbErr(codeValidationError, "1 validation error detected: Value '%d' at 'targets.member.port' failed to satisfy constraint: Member must have value between 1 and 65535", *p)
			}
			t.Port = *p
		}
		switch {
		case t.Id == "":
			return nil, elbErr(codeValidationError, "A target ID must be specified")
		case tg.targetType == "ip" && net.ParseIP(t.Id).To4() == nil:
			return nil, elbErr(codeInvalidTarget, "The IP address '%s' is not a valid IPv4 address", t.Id)
		case tg.targetType == "instance" && !strings.HasPrefix(t.Id, "i-"):
			return nil, elbErr(codeInvalidTarget, "The following targets are not valid instances: '%s'", t.Id)
		}
		out = append(out, t)
	}
	return out, nil
}

// registerTargets registers targets with a target group. An instance must be one of the
// cluster's container instances; the health of an ip or instance target is that of the container
// of a task that listens at it (its ecslocal.elb-health label), and a target where no task
// listens fails its checks with Target.Timeout.
func (s *Server) registerTargets(rc *reqCtx, q form) (any, *apiError) {
	tg := s.elb.tg(q.str("TargetGroupArn"))
	if tg == nil {
		return nil, elbErr(codeTargetGroupNotFound, "One or more target groups not found")
	}
	targets, err := targetsOf(q, tg, true)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		if tg.targetType == "instance" && s.instanceByEC2ID(t.Id) == nil {
			return nil, elbErr(codeInvalidTarget, "The following targets are not in a running state and cannot be registered: '%s'", t.Id)
		}
	}
	for _, t := range targets {
		if i := slices.IndexFunc(tg.targets, func(x *target) bool { return x.id == t.Id && x.port == t.Port && x.removeAt.IsZero() }); i >= 0 {
			continue // already registered
		}
		s.register(tg, t.Id, t.Port, s.listenerAt(tg.targetType, t.Id, t.Port), nil, rc.now)
	}
	return nil, nil
}

// deregisterTargets deregisters targets; "If the specified target does not exist, the action
// returns successfully."
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html.)
func (s *Server) deregisterTargets(rc *reqCtx, q form) (any, *apiError) {
	tg := s.elb.tg(q.str("TargetGroupArn"))
	if tg == nil {
		return nil, elbErr(codeTargetGroupNotFound, "One or more target groups not found")
	}
	targets, err := targetsOf(q, tg, true)
	if err != nil {
		return nil, err
	}
	var tasks []*task
	for _, t := range targets {
		for _, x := range tg.targets {
			if x.id == t.Id && x.port == t.Port && !x.gone(rc.now) && x.removeAt.IsZero() {
				s.deregister(x, rc.now)
				if x.task != nil {
					tasks = append(tasks, x.task)
				}
			}
		}
	}
	for _, tk := range tasks {
		if c := s.clusterOf(tk.svc); c != nil {
			s.reconcileLocked(c, tk.svc, rc.now)
		}
	}
	return nil, nil
}

func (s *Server) describeTargetHealth(rc *reqCtx, q form) (any, *apiError) {
	tg := s.elb.tg(q.str("TargetGroupArn"))
	if tg == nil {
		return nil, elbErr(codeTargetGroupNotFound, "One or more target groups not found")
	}
	asked, err := targetsOf(q, tg, false)
	if err != nil {
		return nil, err
	}
	tg.targets = slices.DeleteFunc(tg.targets, func(t *target) bool { return t.gone(rc.now) })
	out := xTargetHealthDescriptions{TargetHealthDescriptions: []xTargetHealthDescription{}}
	hcPort := func(port int) string {
		if tg.hcPort == "traffic-port" {
			return strconv.Itoa(port)
		}
		return tg.hcPort
	}
	describe := func(t *target) xTargetHealthDescription {
		h := t.health.at(rc.now)
		return xTargetHealthDescription{
			Target: xTarget{Id: t.id, Port: t.port}, HealthCheckPort: hcPort(t.port),
			TargetHealth: xTargetHealth{State: h.state, Reason: h.reason, Description: h.description},
		}
	}
	if len(asked) == 0 {
		for _, t := range tg.targets {
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describe(t))
		}
		return out, nil
	}
	for _, a := range asked {
		i := slices.IndexFunc(tg.targets, func(t *target) bool { return t.id == a.Id && t.port == a.Port })
		if i >= 0 {
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describe(tg.targets[i]))
			continue
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, xTargetHealthDescription{
			Target: xTarget{Id: a.Id, Port: a.Port}, HealthCheckPort: hcPort(a.Port),
			TargetHealth: xTargetHealth{State: tsUnused, Reason: reasonNotRegistered, Description: descNotRegistered},
		})
	}
	return out, nil
}
