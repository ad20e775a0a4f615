# Moving a running service to phased deployments. The service "web" was created by
# hashicorp/aws as aws_ecs_service.web; it serves behind an ALB target group and auto scales
# between 2 and 10 tasks. This configuration replaces it: the first apply adopts "web" and
# rolls the new task definition out as web__1, phase by phase, while web shrinks; web becomes
# revision 0 and `previous`.
#
# The aws_ecs_service.web block must go from the configuration in the same change, together
# with a block that keeps hashicorp/aws from deleting the service (Terraform 1.7 or later):
#
#   removed {
#     from = aws_ecs_service.web
#     lifecycle {
#       destroy = false
#     }
#   }
#
# Before Terraform 1.7, run `terraform state rm aws_ecs_service.web` instead. The removed block
# is only in this comment because this example is checked with Terraform 1.5, which does not
# know it. See the guide "Adopting an existing service".

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
  description = "The task definition to deploy, family:revision (for example web:42); the same family as the one web runs."
  type        = string
}

provider "ecs" {
  region = var.region
}

resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = var.task_definition

  # Used only on create: the running service that the first deployment takes over. Without a
  # service block, the revisions copy its launch type, network configuration, load balancer
  # (the same target group), tags, propagate_tags and ECS Exec setting.
  adopt {
    service_name = "web"
  }

  # desired_count is omitted: the first deployment keeps the count web's auto scaling chose.

  phase {
    percent   = 10
    bake_time = "5m"
  }
  phase {
    percent   = 50
    bake_time = "5m"
  }
  phase {
    percent = 100
  }

  # The auto scaling web runs with, described here so that it moves to web__1. Anything on web
  # that this block does not describe stops the apply before any write, unless
  # discard_unmanaged = true.
  auto_scaling {
    min_capacity = 2
    max_capacity = 10
    target_tracking {
      name                   = "cpu60"
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
      target_value           = 60
    }
  }
}

output "production_service" {
  description = "The service in production: web__1 after the adoption, web again after a rollback to revision 0."
  value       = ecs_phased_deployment.web.service_name
}
