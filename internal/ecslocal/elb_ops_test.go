package ecslocal_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// wantELBError checks that err is the Elastic Load Balancing error code, with HTTP status 400 and
// a message containing msg.
func wantELBError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	if !strings.Contains(apiErr.ErrorMessage(), msg) {
		t.Fatalf("%s message %q, want it to contain %q", code, apiErr.ErrorMessage(), msg)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 400 {
		t.Fatalf("%s: HTTP status %d, want 400", code, re.HTTPStatusCode())
	}
}

// lbSetup creates an Application Load Balancer "web", a target group "web" of the target type
// on port 80 and an HTTP listener on port 80 forwarding to it.
func (e *env) lbSetup(t *testing.T, targetType elbtypes.TargetTypeEnum) (lbArn, tgArn, listenerArn string) {
	t.Helper()
	ctx := context.Background()
	lb, err := e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	tgArn = e.targetGroup(t, "web", targetType)
	l, err := e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), tgArn, aws.ToString(l.Listeners[0].ListenerArn)
}

// targetGroup creates an HTTP target group on port 80 with the default health checks.
func (e *env) targetGroup(t *testing.T, name string, targetType elbtypes.TargetTypeEnum) string {
	t.Helper()
	tg, err := e.elb.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"), TargetType: targetType,
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(tg.TargetGroups[0].TargetGroupArn)
}

func TestELB_LoadBalancers(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	ctx := context.Background()

	_, err := e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a"}})
	wantELBError(t, err, "ValidationError", "At least two subnets in two different Availability Zones must be specified")
	_, err = e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("-web"), Subnets: []string{"subnet-a", "subnet-b"}})
	wantELBError(t, err, "ValidationError", "is not valid")

	out, err := e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}, SecurityGroups: []string{"sg-1"},
		Tags: []elbtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lb := out.LoadBalancers[0]
	arn := aws.ToString(lb.LoadBalancerArn)
	if !strings.HasPrefix(arn, "arn:aws:elasticloadbalancing:eu-west-1:000000000000:loadbalancer/app/web/") ||
		lb.Type != elbtypes.LoadBalancerTypeEnumApplication || lb.Scheme != elbtypes.LoadBalancerSchemeEnumInternetFacing ||
		!strings.HasSuffix(aws.ToString(lb.DNSName), ".eu-west-1.elb.amazonaws.com") || lb.State.Code != elbtypes.LoadBalancerStateEnumProvisioning ||
		len(lb.AvailabilityZones) != 2 || aws.ToString(lb.AvailabilityZones[1].SubnetId) != "subnet-b" || lb.IpAddressType != elbtypes.IpAddressTypeIpv4 ||
		!lb.CreatedTime.Equal(e.clock.Now()) {
		t.Fatalf("created load balancer %+v", lb)
	}
	// The same settings again: the same load balancer; other settings: DuplicateLoadBalancerName.
	again, err := e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}, SecurityGroups: []string{"sg-1"}})
	if err != nil || aws.ToString(again.LoadBalancers[0].LoadBalancerArn) != arn {
		t.Fatalf("idempotent create: %v %v", again, err)
	}
	_, err = e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-c"}})
	wantELBError(t, err, "DuplicateLoadBalancerName", "A load balancer with the same name 'web' exists, but with different settings")

	nlb, err := e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("tcp"), Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{"subnet-a"}})
	if err != nil || !strings.Contains(aws.ToString(nlb.LoadBalancers[0].LoadBalancerArn), ":loadbalancer/net/tcp/") || !strings.HasPrefix(aws.ToString(nlb.LoadBalancers[0].DNSName), "internal-tcp-") {
		t.Fatalf("network load balancer: %v %v", nlb, err)
	}

	for _, in := range []*elbv2.DescribeLoadBalancersInput{{LoadBalancerArns: []string{arn}}, {Names: []string{"web"}}} {
		d, err := e.elb.DescribeLoadBalancers(ctx, in)
		if err != nil || len(d.LoadBalancers) != 1 || aws.ToString(d.LoadBalancers[0].LoadBalancerArn) != arn || d.LoadBalancers[0].State.Code != elbtypes.LoadBalancerStateEnumActive {
			t.Fatalf("describe %+v: %v %v", in, d, err)
		}
	}
	all, err := e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(1)})
	if err != nil || len(all.LoadBalancers) != 1 || all.NextMarker == nil {
		t.Fatalf("first page: %v %v", all, err)
	}
	rest, err := e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(1), Marker: all.NextMarker})
	if err != nil || len(rest.LoadBalancers) != 1 || rest.NextMarker != nil || aws.ToString(rest.LoadBalancers[0].LoadBalancerName) != "tcp" {
		t.Fatalf("second page: %v %v", rest, err)
	}
	_, err = e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"nope"}})
	wantELBError(t, err, "LoadBalancerNotFound", "nope")
	_, err = e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn + "0"}})
	wantELBError(t, err, "LoadBalancerNotFound", "One or more load balancers not found")

	if _, err := e.elb.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	// Deleting it again succeeds, as the API reference says.
	if _, err := e.elb.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	wantELBError(t, err, "LoadBalancerNotFound", "")

	counts := e.srv.CallCounts()
	if counts["elasticloadbalancing:CreateLoadBalancer"] != 6 || counts["elasticloadbalancing:DeleteLoadBalancer"] != 2 {
		t.Fatalf("call counts %v", counts)
	}
	var lastCreate, lastDescribe bool
	for _, c := range e.srv.Calls() {
		if c.Operation == "CreateLoadBalancer" {
			lastCreate = c.Write && c.Service == "elasticloadbalancing"
		}
		if c.Operation == "DescribeLoadBalancers" {
			lastDescribe = !c.Write && c.ErrorCode == "LoadBalancerNotFound" && c.Resource == arn
		}
	}
	if !lastCreate || !lastDescribe {
		t.Fatalf("call log %+v", e.srv.Calls())
	}
}

func TestELB_TargetGroups(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	ctx := context.Background()

	bad := []struct {
		in   elbv2.CreateTargetGroupInput
		code string
		msg  string
	}{
		{elbv2.CreateTargetGroupInput{Name: aws.String("a"), Port: aws.Int32(80), VpcId: aws.String("vpc-1")}, "ValidationError", "A protocol must be specified"},
		{elbv2.CreateTargetGroupInput{Name: aws.String("a"), Protocol: elbtypes.ProtocolEnumHttp, VpcId: aws.String("vpc-1")}, "ValidationError", "A port must be specified"},
		{elbv2.CreateTargetGroupInput{Name: aws.String("a"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80)}, "ValidationError", "A VPC ID must be specified"},
		{elbv2.CreateTargetGroupInput{Name: aws.String("a-"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1")}, "ValidationError", "must not begin or end with a hyphen"},
		{elbv2.CreateTargetGroupInput{Name: aws.String("a"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"), HealthCheckIntervalSeconds: aws.Int32(4)}, "ValidationError", "between 5 and 300"},
		{elbv2.CreateTargetGroupInput{Name: aws.String("a"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"), HealthCheckIntervalSeconds: aws.Int32(10), HealthCheckTimeoutSeconds: aws.Int32(10)}, "ValidationError", "interval must be greater than the timeout"},
		{elbv2.CreateTargetGroupInput{Name: aws.String("a"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"), HealthyThresholdCount: aws.Int32(11)}, "ValidationError", "between 2 and 10"},
	}
	for _, b := range bad {
		_, err := e.elb.CreateTargetGroup(ctx, &b.in)
		wantELBError(t, err, b.code, b.msg)
	}

	// The defaults of the CreateTargetGroup API reference.
	out, err := e.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	tg := out.TargetGroups[0]
	arn := aws.ToString(tg.TargetGroupArn)
	if !strings.HasPrefix(arn, "arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/web/") || tg.TargetType != elbtypes.TargetTypeEnumInstance ||
		aws.ToInt32(tg.HealthCheckIntervalSeconds) != 30 || aws.ToInt32(tg.HealthyThresholdCount) != 5 || aws.ToInt32(tg.UnhealthyThresholdCount) != 2 ||
		aws.ToInt32(tg.HealthCheckTimeoutSeconds) != 6 || aws.ToString(tg.HealthCheckPath) != "/" || aws.ToString(tg.HealthCheckPort) != "traffic-port" ||
		tg.HealthCheckProtocol != elbtypes.ProtocolEnumHttp || aws.ToString(tg.Matcher.HttpCode) != "200" || !aws.ToBool(tg.HealthCheckEnabled) ||
		aws.ToInt32(tg.Port) != 8080 || aws.ToString(tg.VpcId) != "vpc-1" || aws.ToString(tg.ProtocolVersion) != "HTTP1" || len(tg.LoadBalancerArns) != 0 {
		t.Fatalf("defaults %+v", tg)
	}
	tcp, err := e.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("tcp"), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(5432), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(10)})
	if err != nil || tcp.TargetGroups[0].HealthCheckProtocol != elbtypes.ProtocolEnumTcp || aws.ToInt32(tcp.TargetGroups[0].HealthCheckTimeoutSeconds) != 10 ||
		tcp.TargetGroups[0].HealthCheckPath != nil || tcp.TargetGroups[0].Matcher != nil {
		t.Fatalf("tcp target group %+v %v", tcp, err)
	}
	if again, err := e.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String("vpc-1")}); err != nil || aws.ToString(again.TargetGroups[0].TargetGroupArn) != arn {
		t.Fatalf("idempotent create %v %v", again, err)
	}
	_, err = e.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
	wantELBError(t, err, "DuplicateTargetGroupName", "A target group with the same name 'web' exists, but with different settings")

	for _, in := range []*elbv2.DescribeTargetGroupsInput{{TargetGroupArns: []string{arn}}, {Names: []string{"web"}}} {
		d, err := e.elb.DescribeTargetGroups(ctx, in)
		if err != nil || len(d.TargetGroups) != 1 || aws.ToString(d.TargetGroups[0].TargetGroupArn) != arn {
			t.Fatalf("describe %+v: %v %v", in, d, err)
		}
	}
	_, err = e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"web", "nope"}})
	wantELBError(t, err, "TargetGroupNotFound", "One or more target groups not found")
	_, err = e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}, Names: []string{"web"}})
	wantELBError(t, err, "ValidationError", "")

	// Attributes: a deregistration delay of 300 seconds by default.
	attrs, err := e.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(arn)})
	if err != nil || attr(attrs.Attributes, "deregistration_delay.timeout_seconds") != "300" || attr(attrs.Attributes, "stickiness.enabled") != "false" {
		t.Fatalf("attributes %+v %v", attrs, err)
	}
	mod, err := e.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: []elbtypes.TargetGroupAttribute{
		{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")},
	}})
	if err != nil || attr(mod.Attributes, "deregistration_delay.timeout_seconds") != "30" {
		t.Fatalf("modify %+v %v", mod, err)
	}
	_, err = e.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: []elbtypes.TargetGroupAttribute{
		{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("3601")},
	}})
	wantELBError(t, err, "InvalidConfigurationRequest", "between 0 and 3600")
	_, err = e.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: []elbtypes.TargetGroupAttribute{
		{Key: aws.String("no.such.key"), Value: aws.String("1")},
	}})
	wantELBError(t, err, "InvalidConfigurationRequest", "no.such.key")
	_, err = e.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(arn + "0")})
	wantELBError(t, err, "TargetGroupNotFound", "")

	// A target group a listener forwards to is in use.
	lb, err := e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	lbArn := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	l, err := e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbArn), Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbArn)})
	if err != nil || len(d.TargetGroups) != 1 || len(d.TargetGroups[0].LoadBalancerArns) != 1 || d.TargetGroups[0].LoadBalancerArns[0] != lbArn {
		t.Fatalf("target groups of the load balancer %+v %v", d, err)
	}
	_, err = e.elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
	wantELBError(t, err, "ResourceInUse", "is currently in use by a listener or a rule")
	if _, err := e.elb.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: l.Listeners[0].ListenerArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
	wantELBError(t, err, "TargetGroupNotFound", "")
}

func attr(attrs []elbtypes.TargetGroupAttribute, key string) string {
	for _, a := range attrs {
		if aws.ToString(a.Key) == key {
			return aws.ToString(a.Value)
		}
	}
	return "<absent>"
}

func TestELB_ListenersAndRules(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	ctx := context.Background()
	lbArn, blue, listenerArn := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	green := e.targetGroup(t, "green", elbtypes.TargetTypeEnumIp)

	ls, err := e.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbArn)})
	if err != nil || len(ls.Listeners) != 1 {
		t.Fatalf("listeners %v %v", ls, err)
	}
	l := ls.Listeners[0]
	act := l.DefaultActions[0]
	if aws.ToString(l.ListenerArn) != listenerArn || aws.ToInt32(l.Port) != 80 || l.Protocol != elbtypes.ProtocolEnumHttp ||
		!strings.Contains(listenerArn, ":listener/app/web/") || act.Type != elbtypes.ActionTypeEnumForward || aws.ToString(act.TargetGroupArn) != blue ||
		len(act.ForwardConfig.TargetGroups) != 1 || aws.ToInt32(act.ForwardConfig.TargetGroups[0].Weight) != 1 {
		t.Fatalf("listener %+v", l)
	}

	_, err = e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbArn), Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(green)}}})
	wantELBError(t, err, "DuplicateListener", "A listener already exists on this port")
	_, err = e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbArn), Port: aws.Int32(81), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blue + "0")}}})
	wantELBError(t, err, "TargetGroupNotFound", "")
	_, err = e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbArn), Port: aws.Int32(443), Protocol: elbtypes.ProtocolEnumHttps,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blue)}}})
	wantELBError(t, err, "ValidationError", "A certificate must be specified")
	_, err = e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbArn + "0"), Port: aws.Int32(81), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blue)}}})
	wantELBError(t, err, "LoadBalancerNotFound", "")
	_, err = e.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{listenerArn + "0"}})
	wantELBError(t, err, "ListenerNotFound", "One or more listeners not found")

	// A target group serves one Application Load Balancer.
	other, err := e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("other"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: other.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blue)}}})
	wantELBError(t, err, "TargetGroupAssociationLimit", blue)

	// Weighted forward to blue and green.
	mod, err := e.elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(listenerArn), DefaultActions: []elbtypes.Action{{
		Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(blue), Weight: aws.Int32(90)}, {TargetGroupArn: aws.String(green), Weight: aws.Int32(10)},
		}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	fc := mod.Listeners[0].DefaultActions[0].ForwardConfig
	if len(fc.TargetGroups) != 2 || aws.ToInt32(fc.TargetGroups[1].Weight) != 10 || mod.Listeners[0].DefaultActions[0].TargetGroupArn != nil {
		t.Fatalf("weighted forward %+v", fc)
	}
	d, err := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{green}})
	if err != nil || len(d.TargetGroups[0].LoadBalancerArns) != 1 {
		t.Fatalf("green after the weighted forward %+v %v", d, err)
	}

	// Rules.
	canary := e.targetGroup(t, "canary", elbtypes.TargetTypeEnumIp)
	r, err := e.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listenerArn), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/api/*"}}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(canary)}}})
	if err != nil {
		t.Fatal(err)
	}
	ruleArn := aws.ToString(r.Rules[0].RuleArn)
	if r.Rules[0].IsDefault == nil || *r.Rules[0].IsDefault || aws.ToString(r.Rules[0].Priority) != "10" || r.Rules[0].Conditions[0].PathPatternConfig.Values[0] != "/api/*" {
		t.Fatalf("rule %+v", r.Rules[0])
	}
	_, err = e.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listenerArn), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/x"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(canary)}}})
	wantELBError(t, err, "PriorityInUse", "Priority '10' is currently in use")
	rules, err := e.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listenerArn)})
	if err != nil || len(rules.Rules) != 2 || !aws.ToBool(rules.Rules[1].IsDefault) || aws.ToString(rules.Rules[1].Priority) != "default" {
		t.Fatalf("rules %+v %v", rules, err)
	}
	mr, err := e.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(ruleArn), Actions: []elbtypes.Action{{
		Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("503"), ContentType: aws.String("text/plain")},
	}}})
	if err != nil || mr.Rules[0].Actions[0].Type != elbtypes.ActionTypeEnumFixedResponse || aws.ToString(mr.Rules[0].Actions[0].FixedResponseConfig.StatusCode) != "503" {
		t.Fatalf("modified rule %+v %v", mr, err)
	}
	// The canary group is no longer in use: nothing forwards to it.
	d, err = e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{canary}})
	if err != nil || len(d.TargetGroups[0].LoadBalancerArns) != 0 {
		t.Fatalf("canary after the rule changed %+v %v", d, err)
	}
	_, err = e.elb.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: rules.Rules[1].RuleArn})
	wantELBError(t, err, "OperationNotPermitted", "")
	if _, err := e.elb.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(ruleArn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{ruleArn}})
	wantELBError(t, err, "RuleNotFound", "")

	// Deleting the load balancer deletes its listeners.
	if _, err := e.elb.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbArn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{listenerArn}})
	wantELBError(t, err, "ListenerNotFound", "")
	d, err = e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{blue}})
	if err != nil || len(d.TargetGroups[0].LoadBalancerArns) != 0 {
		t.Fatalf("blue after its load balancer was deleted %+v %v", d, err)
	}
}

// TestELB_ManualTargets covers RegisterTargets, DeregisterTargets and DescribeTargetHealth for
// targets no ECS task listens at: they are unused while no load balancer uses the group, then
// fail their checks with Target.Timeout; deregistered, they drain for the deregistration delay.
func TestELB_ManualTargets(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	ctx := context.Background()
	tg := e.targetGroup(t, "ips", elbtypes.TargetTypeEnumIp)
	health := func(targets ...elbtypes.TargetDescription) []elbtypes.TargetHealthDescription {
		t.Helper()
		out, err := e.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg), Targets: targets})
		if err != nil {
			t.Fatal(err)
		}
		return out.TargetHealthDescriptions
	}
	state := func(d elbtypes.TargetHealthDescription) string {
		return string(d.TargetHealth.State) + " " + string(d.TargetHealth.Reason) + " " + aws.ToString(d.TargetHealth.Description)
	}

	_, err := e.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}}})
	wantELBError(t, err, "InvalidTarget", "not a valid IPv4 address")
	_, err = e.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg + "0"), Targets: []elbtypes.TargetDescription{{Id: aws.String("10.1.2.3")}}})
	wantELBError(t, err, "TargetGroupNotFound", "")
	if _, err := e.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String("10.1.2.3")}, {Id: aws.String("10.1.2.4"), Port: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	hs := health()
	if len(hs) != 2 || aws.ToInt32(hs[0].Target.Port) != 80 || aws.ToString(hs[0].HealthCheckPort) != "80" || aws.ToInt32(hs[1].Target.Port) != 8080 ||
		state(hs[0]) != "unused Target.NotInUse Target group is not configured to receive traffic from the load balancer" {
		t.Fatalf("targets of an unused group: %+v", hs)
	}
	if got := state(health(elbtypes.TargetDescription{Id: aws.String("10.9.9.9")})[0]); got != "unused Target.NotRegistered Target is not registered to the target group" {
		t.Fatalf("unregistered target: %s", got)
	}

	// A listener starts the health checks: 30 s apart, unhealthy after 2 failures.
	lb, err := e.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after time.Duration
		want  string
	}{
		{0, "initial Elb.RegistrationInProgress Target registration is in progress"},
		{29 * time.Second, "initial Elb.RegistrationInProgress Target registration is in progress"},
		{time.Second, "initial Elb.InitialHealthChecking Initial health checks in progress"},
		{30 * time.Second, "unhealthy Target.Timeout Request timed out"},
	}
	for _, st := range steps {
		e.clock.Advance(st.after)
		if got := state(health()[0]); got != st.want {
			t.Fatalf("after %s more: %s, want %s", st.after, got, st.want)
		}
	}

	if _, err := e.elb.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String("10.1.2.3")}, {Id: aws.String("10.7.7.7")}}}); err != nil {
		t.Fatal(err)
	}
	if got := state(health()[0]); got != "draining Target.DeregistrationInProgress Target deregistration is in progress" {
		t.Fatalf("deregistered target: %s", got)
	}
	e.clock.Advance(300*time.Second - time.Millisecond)
	if hs := health(); len(hs) != 2 || hs[0].TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
		t.Fatalf("just before the deregistration delay: %+v", hs)
	}
	e.clock.Advance(time.Millisecond)
	if hs := health(); len(hs) != 1 || aws.ToString(hs[0].Target.Id) != "10.1.2.4" {
		t.Fatalf("after the deregistration delay: %+v", hs)
	}
}
