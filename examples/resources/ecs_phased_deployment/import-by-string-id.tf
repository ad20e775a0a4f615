import {
  to = ecs_phased_deployment.web
  id = "prod/web"
}
