terraform {
  required_providers {
    ecs = {
      source = "phased-ecs/ecs"
    }
  }
}

# Credentials come from the standard AWS chain: environment variables, shared files, SSO,
# web identity, container and instance roles.
provider "ecs" {
  region      = "eu-west-1"
  profile     = "prod"
  max_retries = 25

  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/deployer"
    session_name = "terraform"
  }
}

# Against ecslocal (make demo) or LocalStack: point the endpoints at it.
provider "ecs" {
  alias  = "local"
  region = "us-east-1"

  endpoints {
    ecs                     = "http://127.0.0.1:4599"
    application_autoscaling = "http://127.0.0.1:4599"
    cloudwatch              = "http://127.0.0.1:4599"
  }
}
