# Many small phases, and a rollback that restores the old service in one step instead of
# walking back through them: on failure the old service goes straight back to its pre-rollout
# count (and the provider waits for it), then the new revision goes to 0.

terraform {
  required_version = ">= 1.5"
  required_providers {
    ecs = {
      source = "phased-ecs/ecs"
    }
  }
}

variable "task_definition" {
  description = "The task definition to deploy, family:revision."
  type        = string
}

provider "ecs" {
  region = "us-east-1"

  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/ecs-deployer"
    session_name = "terraform-worker"
  }
}

resource "ecs_phased_deployment" "worker" {
  cluster         = "batch"
  name            = "worker"
  task_definition = var.task_definition
  desired_count   = 20

  # Tasks on the cluster's EC2 container instances.
  service {
    launch_type = "EC2"
    tags = {
      team = "data"
    }
  }

  phase {
    percent   = 5
    bake_time = "3m"
  }
  phase {
    percent = 25
  }
  phase {
    percent = 50
  }
  phase {
    percent = 75
  }
  phase {
    percent = 100
  }

  rollback {
    all_phases_at_once = true
  }

  retain_old_services   = 1
  steady_state_timeout  = "8m"
  failed_task_threshold = 2

  timeouts {
    update = "1h"
  }
}
