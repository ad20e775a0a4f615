# <cluster>/<name>: the deployment ID (the phased-deployment:id tag) is the default, prod/web.
terraform import ecs_phased_deployment.web prod/web

# <cluster>/<name>/<deployment_id>, for a resource that sets deployment_id (it may contain "/").
terraform import ecs_phased_deployment.web prod/web/payments/web
