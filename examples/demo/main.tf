# The configuration `make demo` applies against ecslocal. The demo script sets the variables on
# each step; on AWS you would write the values in place. Every revision's service registers its
# tasks with the same target group, and a task counts only once the target group reports it
# healthy.

terraform {
  required_providers {
    ecs = {
      source = "phased-ecs/ecs"
    }
  }
}

variable "endpoint" {
  description = "URL of the ecslocal endpoint."
  type        = string
}

variable "task_definition" {
  description = "The task definition to deploy, family:revision."
  type        = string
}

variable "target_group_arn" {
  description = "The target group every revision's tasks register with (ecslocal seeds it)."
  type        = string
}

variable "desired_count" {
  description = "Task count of the deployed revision."
  type        = number
  default     = 4
}

provider "ecs" {
  region = "eu-west-1"
  endpoints {
    ecs                     = var.endpoint
    application_autoscaling = var.endpoint
    elbv2                   = var.endpoint
  }
}

resource "ecs_phased_deployment" "web" {
  cluster         = "demo"
  name            = "web"
  task_definition = var.task_definition
  desired_count   = var.desired_count

  service {
    launch_type = "FARGATE"
    network_configuration {
      subnets = ["subnet-ecslocal-a", "subnet-ecslocal-b"]
    }
    load_balancer {
      target_group_arn = var.target_group_arn
      container_name   = "web"
      container_port   = 80
    }
  }

  phase {
    percent   = 25
    bake_time = "1s"
  }
  phase {
    percent = 50
  }
  phase {
    percent   = 100
    bake_time = "3s"
  }

  rollback {
    all_phases_at_once = false
  }

  auto_scaling {
    min_capacity = 2
    max_capacity = 8
    target_tracking {
      name                   = "cpu60"
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
      target_value           = 60
    }
  }

  retain_old_services  = 2
  steady_state_timeout = "1m"

  # The demo rolls back at the first crashed or unhealthy task; the default follows ECS's
  # circuit breaker rule, min(max(ceil(desired / 2), 3), 200).
  failed_task_threshold = 1
}
