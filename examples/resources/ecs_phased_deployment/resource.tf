resource "ecs_phased_deployment" "web" {
  cluster         = "prod"   # name or ARN; a change replaces the resource
  name            = "web"    # revision N runs as the ECS service web__N
  task_definition = "web:42" # family:revision or ARN: what is deployed
  desired_count   = 8

  # The template of every revision's service. A change deploys a new revision.
  service {
    platform_version = "LATEST"

    # launch_type = "FARGATE" works too, instead of a capacity provider strategy.
    capacity_provider_strategy {
      capacity_provider = "FARGATE"
      weight            = 1
      base              = 2
    }
    capacity_provider_strategy {
      capacity_provider = "FARGATE_SPOT"
      weight            = 3
    }

    network_configuration {
      subnets          = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
      security_groups  = ["sg-0123456789abcdef0"]
      assign_public_ip = false
    }

    load_balancer {
      target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"
      container_name   = "web"
      container_port   = 8080
    }

    service_registries {
      registry_arn = "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-0123456789abcdef"
    }

    health_check_grace_period_seconds = 30
    enable_execute_command            = false
    propagate_tags                    = "SERVICE"
    tags = {
      team = "payments"
    }
  }

  # 2, then 4, then 8 tasks of the new revision; from 8 tasks, the old service goes to 6, 4, 0.
  phase {
    percent   = 25
    bake_time = "2m"
  }
  phase {
    percent = 50
  }
  phase {
    percent = 100
  }

  rollback {
    all_phases_at_once = false # R3, R2, R1: reverse phase order
  }

  auto_scaling {
    min_capacity = 4
    max_capacity = 20
    target_tracking {
      name                   = "cpu60"
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
      target_value           = 60
      scale_in_cooldown      = 60
      scale_out_cooldown     = 60
    }
    # Scale out before the morning peak: from 08:00 Berlin time on weekdays at least 8 tasks,
    # and back to at least 4 from 20:00. Both move to each new revision with the policy.
    scheduled_action {
      name         = "weekday-morning"
      schedule     = "cron(0 8 ? * MON-FRI *)"
      timezone     = "Europe/Berlin"
      min_capacity = 8
    }
    scheduled_action {
      name         = "weekday-evening"
      schedule     = "cron(0 20 ? * MON-FRI *)"
      timezone     = "Europe/Berlin"
      min_capacity = 4
    }
  }

  retain_old_services   = 3
  steady_state_timeout  = "10m"
  failed_task_threshold = 3
  deployment_id         = "prod/web"

  timeouts {
    create = "30m"
    update = "30m"
    delete = "20m"
  }
}
