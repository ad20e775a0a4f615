package ecslocal_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aatypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestAllowList_ImpliedActions checks that an allow-list gates, besides each call's own action,
// the actions AWS authorizes as part of it: ecs:TagResource for CreateService with tags, the
// CloudWatch alarm actions of target tracking policies, and iam:CreateServiceLinkedRole for the
// first RegisterScalableTarget of the account.
func TestAllowList_ImpliedActions(t *testing.T) {
	all := []string{
		"ecs:CreateService", "ecs:TagResource",
		"application-autoscaling:RegisterScalableTarget", "iam:CreateServiceLinkedRole",
		"application-autoscaling:PutScalingPolicy", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm",
		"application-autoscaling:DeleteScalingPolicy", "cloudwatch:DeleteAlarms",
	}
	without := func(a string) []string {
		var out []string
		for _, x := range all {
			if x != a {
				out = append(out, x)
			}
		}
		return out
	}
	denied := func(t *testing.T, err error, action string) {
		t.Helper()
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" ||
			!strings.Contains(apiErr.ErrorMessage(), "is not authorized to perform: "+action+" ") {
			t.Fatalf("want AccessDeniedException naming %s, got %v", action, err)
		}
	}
	newSeeded := func(t *testing.T, allow []string) *env {
		e := newEnv(t, time.Second, time.Second)
		e.seed(t)
		e.createService(t, "web__1", "web:1", 0)
		e.srv.SetAllowedActions(allow)
		return e
	}
	tagged := func(name string) *ecs.CreateServiceInput {
		return &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String("web:1"),
			DesiredCount: aws.Int32(0), Tags: opsTags("phased-deployment:id", "prod/web"),
		}
	}

	t.Run("CreateService with tags needs ecs:TagResource; without tags it does not", func(t *testing.T) {
		e := newSeeded(t, without("ecs:TagResource"))
		_, err := e.ecs.CreateService(opsCtx, tagged("web__2"), ctlNoRetry)
		denied(t, err, "ecs:TagResource")
		if slices.ContainsFunc(e.srv.Status().Services, func(s ecslocal.ServiceStatus) bool { return s.Name == "web__2" }) {
			t.Fatal("a denied CreateService created the service")
		}
		in := tagged("web__2")
		in.Tags = nil
		if _, err := e.ecs.CreateService(opsCtx, in, ctlNoRetry); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the first RegisterScalableTarget needs iam:CreateServiceLinkedRole; later ones do not", func(t *testing.T) {
		e := newSeeded(t, all)
		e.aasRegister(t, "web__1", 0, 2) // creates the service-linked role
		e.srv.SetAllowedActions(without("iam:CreateServiceLinkedRole"))
		if _, err := e.aas.RegisterScalableTarget(opsCtx, aasTarget("web__1", aws.Int32(0), aws.Int32(3))); err != nil {
			t.Fatal(err)
		}
		e.srv.SetAllowedActions(nil)
		e.srv.Reset() // a new account: no role yet
		e.seed(t)
		e.createService(t, "web__1", "web:1", 0)
		e.srv.SetAllowedActions(without("iam:CreateServiceLinkedRole"))
		_, err := e.aas.RegisterScalableTarget(opsCtx, aasTarget("web__1", aws.Int32(0), aws.Int32(2)), func(o *aas.Options) { o.Retryer = aws.NopRetryer{} })
		denied(t, err, "iam:CreateServiceLinkedRole")
	})

	for _, a := range []string{"cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"} {
		t.Run("a target tracking PutScalingPolicy needs "+a, func(t *testing.T) {
			e := newSeeded(t, all)
			e.aasRegister(t, "web__1", 0, 2)
			e.srv.SetAllowedActions(without(a))
			_, err := e.aas.PutScalingPolicy(opsCtx, aasCPUPolicy("web__1", "cpu60", 60))
			denied(t, err, a)
		})
	}
	for _, a := range []string{"cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"} {
		t.Run("DeleteScalingPolicy needs "+a, func(t *testing.T) {
			e := newSeeded(t, all)
			e.aasRegister(t, "web__1", 0, 2)
			e.aasPut(t, aasCPUPolicy("web__1", "cpu60", 60))
			e.srv.SetAllowedActions(without(a))
			_, err := e.aas.DeleteScalingPolicy(opsCtx, &aas.DeleteScalingPolicyInput{
				ServiceNamespace: aatypes.ServiceNamespaceEcs, ScalableDimension: aatypes.ScalableDimensionECSServiceDesiredCount,
				ResourceId: aws.String("service/prod/web__1"), PolicyName: aws.String("cpu60"),
			})
			denied(t, err, a)
		})
	}

	t.Run("without an allow-list nothing implied is checked", func(t *testing.T) {
		e := newSeeded(t, nil)
		if _, err := e.ecs.CreateService(opsCtx, tagged("web__2"), ctlNoRetry); err != nil {
			t.Fatal(err)
		}
		e.aasRegister(t, "web__2", 0, 2)
		e.aasPut(t, aasCPUPolicy("web__2", "cpu60", 60))
	})
}
