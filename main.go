// Command terraform-provider-ecs serves the phased-ecs/ecs Terraform provider, which runs
// canary-style phased deployments of Amazon ECS services inside terraform apply.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/phased-ecs/terraform-provider-ecs/internal/provider"
)

// version is set at build time through -ldflags "-X main.version=<version>"; a plain
// go build leaves it at "dev".
var version = "dev"

func main() {
	var debug bool

	flag.BoolVar(&debug, "debug", false, "set to true to run the provider with support for debuggers like delve")
	flag.Parse()

	opts := providerserver.ServeOpts{
		Address:         "registry.terraform.io/phased-ecs/ecs",
		Debug:           debug,
		ProtocolVersion: 6,
	}

	if err := providerserver.Serve(context.Background(), provider.New(version), opts); err != nil {
		log.Fatal(err.Error())
	}
}
