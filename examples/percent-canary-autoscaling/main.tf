# A percent canary of a service that ECS Service Auto Scaling sizes. The rollout takes auto
# scaling off the production service, moves 10 %, 50 % and 100 % of the tasks to the new
# revision, and registers the same auto scaling on the new revision after the last phase (or
# back on the old one after a rollback).

terraform {
  required_version = ">= 1.5"
  required_providers {
    ecs = {
      source = "phased-ecs/ecs"
    }
  }
}

variable "task_definition" {
  description = "The task definition to deploy: family:revision or an ARN."
  type        = string
}

variable "initial_count" {
  description = <<-EOT
    Task count of the first deployment only (terraform apply -var initial_count=4). Later
    releases leave it null, so each new revision starts at the count auto scaling has reached
    instead of being reset to a fixed number.
  EOT
  type        = number
  default     = null
}

variable "target_group_arn" {
  description = "Target group the web containers register with."
  type        = string
}

variable "subnets" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

provider "ecs" {
  region = "eu-west-1"
}

resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = var.task_definition
  desired_count   = var.initial_count

  service {
    launch_type = "FARGATE"
    network_configuration {
      subnets = var.subnets
    }
    load_balancer {
      target_group_arn = var.target_group_arn
      container_name   = "web"
      container_port   = 8080
    }
    health_check_grace_period_seconds = 60
  }

  phase {
    percent   = 10
    bake_time = "10m"
  }
  phase {
    percent   = 50
    bake_time = "5m"
  }
  phase {
    percent = 100
  }

  auto_scaling {
    min_capacity = 4
    max_capacity = 40

    target_tracking {
      name                   = "cpu60"
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
      target_value           = 60
      scale_in_cooldown      = 300
      scale_out_cooldown     = 60
    }
    target_tracking {
      name                   = "memory70"
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
      target_value           = 70
    }
  }

  steady_state_timeout = "20m"
}

output "production" {
  description = "The production service and the task count it is recorded at."
  value       = ecs_phased_deployment.web.current
}

output "rollback_target" {
  description = "The service that re-applying the previous task definition brings back."
  value       = ecs_phased_deployment.web.previous
}
