package ecslocal_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestECS_CreateServiceClientToken: only the retry of the request that created an ACTIVE service,
// with the same client token and parameters, returns it; the name of a DRAINING service is
// refused whatever the token, until its tasks have stopped (the deregistration delay included)
// and it is INACTIVE.
func TestECS_CreateServiceClientToken(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.cluster(t)
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	if _, err := e.elb.ModifyTargetGroupAttributes(opsCtx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg), Attributes: []elbtypes.TargetGroupAttribute{
		{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("20")},
	}}); err != nil {
		t.Fatal(err)
	}
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	in := ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1),
		LaunchType: types.LaunchTypeFargate, ClientToken: aws.String("token-1"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
		LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}},
	}
	first, err := e.ecs.CreateService(opsCtx, &in)
	if err != nil {
		t.Fatal(err)
	}

	// The retry of the same request returns the ACTIVE service.
	again, err := e.ecs.CreateService(opsCtx, &in)
	if err != nil {
		t.Fatalf("retry of the same request: %v", err)
	}
	if aws.ToString(again.Service.Deployments[0].Id) != aws.ToString(first.Service.Deployments[0].Id) {
		t.Fatalf("the retry made a new service")
	}
	// The same token with other parameters is another request.
	other := in
	other.DesiredCount = aws.Int32(3)
	_, err = e.ecs.CreateService(opsCtx, &other)
	opsIs[*types.InvalidParameterException](t, err, "Creation of service was not idempotent.")

	e.at(40 * time.Second)
	if _, err := e.ecs.DeleteService(opsCtx, &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	// DRAINING while the target drains for 20 s: no token brings the name back.
	for _, d := range []time.Duration{40 * time.Second, 59 * time.Second} {
		e.at(d)
		if got := e.describe(t, "web"); aws.ToString(got.Status) != "DRAINING" {
			t.Fatalf("at %s the deleted service is %s, want DRAINING", d, aws.ToString(got.Status))
		}
		_, err = e.ecs.CreateService(opsCtx, &in)
		opsIs[*types.InvalidParameterException](t, err, "Creation of service was not idempotent.")
	}
	e.at(60 * time.Second)
	if got := e.describe(t, "web"); aws.ToString(got.Status) != "INACTIVE" {
		t.Fatalf("after the deregistration delay the service is %s, want INACTIVE", aws.ToString(got.Status))
	}
	// An INACTIVE name can be reused, even with the old token: it is a new service.
	out, err := e.ecs.CreateService(opsCtx, &in)
	if err != nil {
		t.Fatalf("create on the INACTIVE name: %v", err)
	}
	if aws.ToString(out.Service.Status) != "ACTIVE" || aws.ToString(out.Service.Deployments[0].Id) == aws.ToString(first.Service.Deployments[0].Id) {
		t.Fatalf("re-created service %s deployment %s", aws.ToString(out.Service.Status), aws.ToString(out.Service.Deployments[0].Id))
	}

	// "Up to 36 ASCII characters in the range of 33-126".
	for _, tok := range []string{strings.Repeat("x", 37), "with space", "tab\there", "é"} {
		bad := in
		bad.ServiceName, bad.ClientToken = aws.String("web2"), aws.String(tok)
		_, err := e.ecs.CreateService(opsCtx, &bad)
		opsIs[*types.InvalidParameterException](t, err, "")
	}
	ok := in
	ok.ServiceName, ok.ClientToken = aws.String("web2"), aws.String(strings.Repeat("~", 36))
	if _, err := e.ecs.CreateService(opsCtx, &ok); err != nil {
		t.Fatalf("a token of 36 printable characters: %v", err)
	}
}
