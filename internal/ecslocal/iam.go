package ecslocal

import "encoding/json"

// impliedActionsLocked lists the IAM actions that AWS authorizes as part of a call besides the
// call's own action, so that an allow-list without them fails the call as AWS would:
//   - ECS authorizes CreateService with tags as ecs:TagResource too (tag-on-create
//     authorization, ECS developer guide "Grant permission to tag resources on creation").
//   - Application Auto Scaling checks the caller's CloudWatch permissions for the alarms of a
//     target tracking policy (user guide, "Permissions required for API actions on target
//     services and CloudWatch"): PutScalingPolicy needs cloudwatch:DescribeAlarms and
//     cloudwatch:PutMetricAlarm, DeleteScalingPolicy cloudwatch:DescribeAlarms and
//     cloudwatch:DeleteAlarms.
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
