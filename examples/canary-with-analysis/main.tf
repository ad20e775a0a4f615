# A canary behind an Application Load Balancer, gated on CloudWatch: each phase of the new
# revision must keep the ALB's 5xx alarm out of ALARM, and its error rate must stay within
# 1.2 times the previous revision's, from the phase's scale-up to the end of its bake and for
# five minutes after the last phase. A breach rolls the release back in reverse phase order.

terraform {
  required_version = ">= 1.5"
  required_providers {
    ecs = {
      source = "phased-ecs/ecs"
    }
  }
}

variable "region" {
  description = "AWS Region of the cluster."
  type        = string
  default     = "eu-west-1"
}

variable "task_definition" {
  description = "The task definition to deploy, family:revision (for example web:42)."
  type        = string
}

variable "subnets" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "security_groups" {
  description = "Security groups of the tasks."
  type        = list(string)
}

variable "target_group_arn" {
  description = "The ALB target group the tasks register with."
  type        = string
}

variable "alb_5xx_alarm" {
  description = <<-EOT
    Name of an existing CloudWatch alarm on the ALB's HTTPCode_Target_5XX_Count for the target
    group. It must exist, and must not be in ALARM, when a rollout starts.
  EOT
  type        = string
  default     = "web-alb-5xx"
}

provider "ecs" {
  region = var.region
}

resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = var.task_definition
  desired_count   = 10

  service {
    launch_type = "FARGATE"
    network_configuration {
      subnets         = var.subnets
      security_groups = var.security_groups
    }
    load_balancer {
      target_group_arn = var.target_group_arn
      container_name   = "web"
      container_port   = 8080
    }
  }

  phase {
    count     = 1
    bake_time = "10m"
  }
  phase {
    percent   = 50
    bake_time = "10m"
  }
  phase {
    percent = 100
  }

  analysis {
    # The ALB alarm sees both revisions at once: every revision's tasks register with the same
    # target group, so it gates on the service as a whole, like ECS's deployment alarms.
    alarm_names = [var.alb_5xx_alarm]

    interval     = "30s"
    final_window = "5m"

    # ALB metrics (AWS/ApplicationELB HTTPCode_Target_5XX_Count and RequestCount) are per target
    # group, not per ECS service, so they cannot tell the new revision from the old one. A
    # comparison with the previous revision needs a metric per service: here the application
    # publishes Errors and Requests to its own namespace, WebApp, with a ServiceName dimension
    # holding the ECS service it runs in (web__<N>: the task metadata endpoint v4 reports it on
    # EC2, and DescribeTasks reports it everywhere as the task's group, "service:web__<N>").
    # {{service}} is the new revision's service; the previous revision's value is read from the
    # same queries with its service name instead.
    metric {
      name       = "error-rate"
      expression = "100 * errors / requests"
      period     = 60

      # Fail when the new revision's error rate is more than 1.2 × the previous revision's,
      # but only above 1 %: below that floor the ratio of two tiny rates is noise.
      baseline_ratio = 1.2
      threshold      = 1
      failure_limit  = 1

      # A canary that serves nothing has no error rate; keep the phase open until it has one.
      no_data = "wait"

      query {
        id          = "errors"
        namespace   = "WebApp"
        metric_name = "Errors"
        dimensions  = { ClusterName = "prod", ServiceName = "{{service}}" }
        statistic   = "Sum"
      }
      query {
        id          = "requests"
        namespace   = "WebApp"
        metric_name = "Requests"
        dimensions  = { ClusterName = "prod", ServiceName = "{{service}}" }
        statistic   = "Sum"
      }
    }
  }

  # Two bakes of 10 minutes and a final window of 5 fit in the default 30-minute timeouts only
  # just; leave room for the phases themselves.
  timeouts {
    create = "45m"
    update = "45m"
  }
}

output "planned_gates" {
  description = "The gates each rollout is held to, in words, as the plan shows them."
  value       = ecs_phased_deployment.web.planned_gates
}
