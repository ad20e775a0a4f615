package ecslocal_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// postForm sends a raw awsQuery request.
func postForm(t *testing.T, e *env, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := http.Post(e.url+"/", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestELB_Wire checks the query protocol at the byte level: the response and error envelopes
// with their namespace and request ID, and requests that are not Elastic Load Balancing ones.
func TestELB_Wire(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	status, ctype, body := postForm(t, e, url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2015-12-01"}})
	const ns = `xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"`
	if status != 200 || !strings.HasPrefix(ctype, "text/xml") ||
		!strings.HasPrefix(body, `<DescribeLoadBalancersResponse `+ns+`><DescribeLoadBalancersResult>`) ||
		!strings.Contains(body, `</DescribeLoadBalancersResult><ResponseMetadata><RequestId>`) || !strings.HasSuffix(body, `</RequestId></ResponseMetadata></DescribeLoadBalancersResponse>`) {
		t.Fatalf("response %d %s %s", status, ctype, body)
	}
	status, _, body = postForm(t, e, url.Values{"Action": {"DescribeTargetGroups"}, "Version": {"2015-12-01"}, "Names.member.1": {"nope"}})
	if status != 400 || !strings.HasPrefix(body, `<ErrorResponse `+ns+`><Error><Type>Sender</Type><Code>TargetGroupNotFound</Code><Message>One or more target groups not found</Message></Error><RequestId>`) {
		t.Fatalf("error %d %s", status, body)
	}
	for _, f := range []url.Values{
		{"Action": {"ListQueues"}, "Version": {"2012-11-05"}}, // SQS, which ecslocal does not serve
		{"Action": {"NoSuchThing"}, "Version": {"2015-12-01"}},
	} {
		status, _, body = postForm(t, e, f)
		if status != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
			t.Fatalf("%v: %d %s", f, status, body)
		}
	}
	status, _, body = postForm(t, e, url.Values{"Version": {"2015-12-01"}})
	if status != 400 || !strings.Contains(body, "<Code>MissingAction</Code>") {
		t.Fatalf("no action: %d %s", status, body)
	}
	// JSON requests on the same address still reach ECS.
	if out, err := e.ecs.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{"prod"}}); err != nil || len(out.Failures) != 1 {
		t.Fatalf("ECS beside ELB: %v %v", out, err)
	}
}

// TestELB_AllowListAndFaults: Elastic Load Balancing calls are authorized as
// elasticloadbalancing:<Op> (denied: AccessDenied, HTTP 403), creating with tags needs
// elasticloadbalancing:AddTags too, and faults can be injected into them.
func TestELB_AllowListAndFaults(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	ctx := context.Background()
	e.srv.SetAllowedActions([]string{"elasticloadbalancing:CreateTargetGroup"})
	_, err := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	var apiErr smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || !errors.As(err, &re) || re.HTTPStatusCode() != 403 ||
		!strings.Contains(apiErr.ErrorMessage(), "is not authorized to perform: elasticloadbalancing:DescribeTargetGroups") {
		t.Fatalf("denied call: %v", err)
	}
	in := &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"),
		Tags: []elbtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}
	_, err = e.elb.CreateTargetGroup(ctx, in)
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || !strings.Contains(apiErr.ErrorMessage(), "elasticloadbalancing:AddTags") {
		t.Fatalf("tag on create without AddTags: %v", err)
	}
	e.srv.SetAllowedActions([]string{"elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:AddTags", "elasticloadbalancing:DescribeTargetHealth"})
	out, err := e.elb.CreateTargetGroup(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.InjectFault(ecslocal.Fault{Operation: "elasticloadbalancing:DescribeTargetHealth", Count: 1, Code: "Throttling", Message: "Rate exceeded", Status: 400})
	_, err = e.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: out.TargetGroups[0].TargetGroupArn}, func(o *elbv2.Options) { o.Retryer = aws.NopRetryer{} })
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "Throttling" {
		t.Fatalf("injected fault: %v", err)
	}
	if _, err := e.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: out.TargetGroups[0].TargetGroupArn}); err != nil {
		t.Fatal(err)
	}
	counts := e.srv.CallCounts()
	if counts["elasticloadbalancing:DescribeTargetHealth"] != 2 || counts["elasticloadbalancing:CreateTargetGroup"] != 2 {
		t.Fatalf("counts %v", counts)
	}
}
