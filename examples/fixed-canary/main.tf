# A canary by task count: one task of the new revision first, then three, then all of them.
# Each early phase bakes for five minutes while the provider keeps watching the new tasks; if
# failed_task_threshold of them fail, the apply rolls back (R3, R2, R1) and returns an error.

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

provider "ecs" {
  region = var.region
}

# Fail the plan early, with a clear message, when the cluster is not ready.
data "ecs_cluster" "prod" {
  name = "prod"

  lifecycle {
    postcondition {
      condition     = self.status == "ACTIVE"
      error_message = "The ECS cluster prod is ${self.status}; deployments need an ACTIVE cluster."
    }
  }
}

resource "ecs_phased_deployment" "api" {
  cluster         = data.ecs_cluster.prod.arn
  name            = "api"
  task_definition = var.task_definition
  desired_count   = 10

  service {
    launch_type = "FARGATE"
    network_configuration {
      subnets         = var.subnets
      security_groups = var.security_groups
    }
  }

  # Counts are capped at desired_count, and the last phase must reach it.
  phase {
    count     = 1
    bake_time = "5m"
  }
  phase {
    count     = 3
    bake_time = "5m"
  }
  phase {
    percent = 100
  }

  # The first failed task of the new revision stops the rollout.
  failed_task_threshold = 1
  steady_state_timeout  = "15m"
}

output "production_service" {
  description = "The ECS service in production, for example api__7."
  value       = ecs_phased_deployment.api.service_name
}

output "planned_phases" {
  description = "Task counts of the new and the old service after each phase: 1/9, 3/7, 10/0 when 10 tasks were running."
  value       = ecs_phased_deployment.api.planned_phases
}
