package ecslocal

import (
	"encoding/json"
	"strings"
)

// impliedActionsLocked lists the IAM actions that AWS authorizes as part of a call besides the
// call's own action, so that an allow-list without them fails the call as AWS would:
//   - ECS authorizes CreateService with tags as ecs:TagResource too (tag-on-create
//     authorization, ECS developer guide "Grant permission to tag resources on creation",
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html).
//   - Application Auto Scaling checks the caller's CloudWatch permissions for the alarms of a
//     target tracking policy (user guide, "Permissions required for API actions on target
//     services and CloudWatch",
//     https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html):
//     PutScalingPolicy needs cloudwatch:DescribeAlarms and cloudwatch:PutMetricAlarm,
//     DeleteScalingPolicy cloudwatch:DescribeAlarms and cloudwatch:DeleteAlarms.
//   - The first RegisterScalableTarget of an account creates Application Auto Scaling's ECS
//     service-linked role, which needs iam:CreateServiceLinkedRole.
func (s *Server) impliedActionsLocked(service, op string, body []byte) []string {
	switch service + ":" + op {
	case "ecs:CreateService":
		var in struct {
			Tags []json.RawMessage `json:"tags"`
		}
		if json.Unmarshal(body, &in) == nil && len(in.Tags) > 0 {
			return []string{"ecs:TagResource"}
		}
	case "application-autoscaling:PutScalingPolicy":
		var in struct {
			PolicyType string `json:"PolicyType"`
		}
		if json.Unmarshal(body, &in) == nil && in.PolicyType == "TargetTrackingScaling" {
			return []string{"cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"}
		}
	case "application-autoscaling:DeleteScalingPolicy":
		return []string{"cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"}
	case "application-autoscaling:RegisterScalableTarget":
		if !s.linkedRole {
			return []string{"iam:CreateServiceLinkedRole"}
		}
	}
	return nil
}

// impliedQueryActions lists the actions AWS authorizes as part of an Elastic Load Balancing call:
// creating a resource with tags is authorized as elasticloadbalancing:AddTags too ("ELB API
// permissions to tag resources during creation",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html).
func impliedQueryActions(op string, q form) []string {
	if strings.HasPrefix(op, "Create") && len(q.structs("Tags")) > 0 {
		return []string{svcELB + ":AddTags"}
	}
	return nil
}
