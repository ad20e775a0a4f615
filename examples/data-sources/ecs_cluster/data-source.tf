data "ecs_cluster" "prod" {
  name = "prod"
}

output "prod_cluster" {
  value = {
    arn           = data.ecs_cluster.prod.arn
    status        = data.ecs_cluster.prod.status
    running_tasks = data.ecs_cluster.prod.running_tasks_count
  }
}
