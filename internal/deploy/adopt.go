package deploy

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Adoption is the running service a deployment took over on create (DESIGN.md §16), kept in
// state: discovery looks for it by name, since it is not named <name>__N, and, when the
// configuration has no service block, revisions are created from the template copied from it.
type Adoption struct {
	Service  string           `json:"service_name"`
	Template *ServiceTemplate `json:"template,omitempty"`
}

// AdoptedService is what an adopting create found of the service it takes over.
type AdoptedService struct {
	ServiceRef
	// Live is its own desired count; ServiceRef.DesiredCount (P) adds what owned revisions
	// hold, the tasks a killed adoption had moved.
	Live       int  `json:"live"`
	AutoScaled bool `json:"auto_scaled"`
	// Template is the service template its revisions get; Copied names the attributes copied
	// from the adopted service (none when the configuration has a service block).
	Template ServiceTemplate `json:"template"`
	Copied   []string        `json:"copied,omitempty"`
}

// RevisionZero is the revision number of an adopted service: it was production before revision 1.
const RevisionZero = 0

// Template is the service template revisions are created from: the configured one, or, when
// the configuration has no service block and the deployment adopted a service, the template
// copied from it.
func Template(cfg Config, st State) ServiceTemplate {
	if reflect.DeepEqual(cfg.Service, ServiceTemplate{}) && st.Adopted != nil && st.Adopted.Template != nil {
		return *st.Adopted.Template
	}
	return cfg.Service
}

// templateFrom copies the settings of a service that its revisions need, listing the ones it
// copied: launch type or capacity providers, platform version, network configuration, load
// balancers, service registries, health check grace period, propagate tags, tags (not AWS's
// own, nor the deployment's), ECS Exec and Availability Zone rebalancing.
func templateFrom(svc types.Service) (ServiceTemplate, []string) {
	var t ServiceTemplate
	var copied []string
	note := func(ok bool, name string) {
		if ok {
			copied = append(copied, name)
		}
	}
	if len(svc.CapacityProviderStrategy) > 0 {
		for _, cp := range svc.CapacityProviderStrategy {
			t.CapacityProviderStrategy = append(t.CapacityProviderStrategy, CapacityProvider{
				CapacityProvider: aws.ToString(cp.CapacityProvider), Weight: int(cp.Weight), Base: int(cp.Base),
			})
		}
		copied = append(copied, "capacity_provider_strategy")
	} else if svc.LaunchType != "" {
		t.LaunchType = string(svc.LaunchType)
		copied = append(copied, "launch_type")
	}
	if v := aws.ToString(svc.PlatformVersion); v != "" {
		t.PlatformVersion = v
		copied = append(copied, "platform_version")
	}
	if nc := svc.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
		a := nc.AwsvpcConfiguration
		t.Network = &NetworkConfig{Subnets: a.Subnets, SecurityGroups: a.SecurityGroups, AssignPublicIP: a.AssignPublicIp == types.AssignPublicIpEnabled}
		copied = append(copied, "network_configuration")
	}
	for _, lb := range svc.LoadBalancers {
		t.LoadBalancers = append(t.LoadBalancers, LoadBalancer{
			TargetGroupARN: aws.ToString(lb.TargetGroupArn), ContainerName: aws.ToString(lb.ContainerName), ContainerPort: int(aws.ToInt32(lb.ContainerPort)),
		})
	}
	note(len(t.LoadBalancers) > 0, "load_balancer")
	for _, r := range svc.ServiceRegistries {
		t.ServiceRegistries = append(t.ServiceRegistries, aws.ToString(r.RegistryArn))
	}
	note(len(t.ServiceRegistries) > 0, "service_registries")
	if g := svc.HealthCheckGracePeriodSeconds; g != nil && *g > 0 {
		t.HealthCheckGracePeriodSeconds = aws.Int(int(*g))
		copied = append(copied, "health_check_grace_period_seconds")
	}
	if svc.PropagateTags != "" && svc.PropagateTags != types.PropagateTagsNone {
		t.PropagateTags = string(svc.PropagateTags)
		copied = append(copied, "propagate_tags")
	}
	for _, tag := range svc.Tags {
		k := aws.ToString(tag.Key)
		if strings.HasPrefix(k, "aws:") || strings.HasPrefix(k, "phased-deployment:") {
			continue
		}
		if t.Tags == nil {
			t.Tags = map[string]string{}
		}
		t.Tags[k] = aws.ToString(tag.Value)
	}
	note(len(t.Tags) > 0, "tags")
	if svc.EnableExecuteCommand {
		t.EnableExecuteCommand = true
		copied = append(copied, "enable_execute_command")
	}
	if svc.AvailabilityZoneRebalancing != "" {
		t.AvailabilityZoneRebalancing = string(svc.AvailabilityZoneRebalancing)
		copied = append(copied, "availability_zone_rebalancing")
	}
	return t, copied
}

// adoptionError is a preflight refusal of an adoption: nothing was written.
func adoptionError(format string, args ...any) error {
	return &InputError{Field: "adopt.service_name", Message: fmt.Sprintf(format, args...)}
}

// checkAdoptable refuses, before any write, a service that cannot be taken over: one that is
// missing or not ACTIVE, runs a task definition of another family, belongs to another
// deployment, is deployed by another controller, or has a revision's name.
func checkAdoptable(cfg Config, svc *types.Service, family string) error {
	name := cfg.Adopt
	if _, ok := ParseRevision(cfg.Name, name); ok {
		return adoptionError("ECS service %s has the name of a revision of this deployment (%s__N); a service adopted keeps its own name, which must differ", name, cfg.Name)
	}
	switch {
	case svc == nil:
		return adoptionError("ECS service %s does not exist in the cluster, so it cannot be adopted", name)
	case aws.ToString(svc.Status) != "ACTIVE":
		return adoptionError("ECS service %s is %s; only an ACTIVE service can be adopted", name, aws.ToString(svc.Status))
	}
	if dc := svc.DeploymentController; dc != nil && dc.Type != "" && dc.Type != types.DeploymentControllerTypeEcs {
		return adoptionError("ECS service %s uses the %s deployment controller; only a service that ECS deploys itself (ECS) can be shrunk phase by phase, and %s services are not this provider's to scale", name, dc.Type, dc.Type)
	}
	if v, ok := tagValue(svc.Tags, OwnerTag); ok && v != cfg.DeploymentID {
		return adoptionError("ECS service %s carries the tag %s = %q: it belongs to another deployment", name, OwnerTag, v)
	}
	if got := Family(aws.ToString(svc.TaskDefinition)); got != family {
		return adoptionError("ECS service %s runs task definition family %q, but this deployment runs family %q; a different family needs a deployment of its own", name, got, family)
	}
	return nil
}

// adopt finds the service an adopting create takes over and checks it can be (checkAdoptable);
// it sets in.View to what a rollout from it starts with, and returns the adopted service as
// production. Nothing is written.
func (e *Engine) adopt(ctx context.Context, in *PreviewInput, cluster string, inv *inventory, family string) (*liveService, error) {
	cfg := in.Config
	found, err := e.findServices(ctx, cluster, []string{cfg.Adopt})
	if err != nil {
		return nil, err
	}
	var svc *types.Service
	if s, ok := found[cfg.Adopt]; ok {
		svc = &s
	}
	if err := checkAdoptable(cfg, svc, family); err != nil {
		return nil, err
	}
	prod := toLive(*svc, cfg.Name, cfg.DeploymentID)
	prod.Revision = RevisionZero
	scaling, err := e.describeScaling(ctx, cluster, prod.Name)
	if err != nil {
		return nil, err
	}
	inv.prodScaling = scaling

	adopted := &AdoptedService{ServiceRef: *prod.ref(), Live: prod.Desired, AutoScaled: scaling != nil, Template: cfg.Service}
	if reflect.DeepEqual(cfg.Service, ServiceTemplate{}) {
		adopted.Template, adopted.Copied = templateFrom(*svc)
	}
	// A killed adoption moved tasks to revisions that no state records: production's count is
	// its own plus theirs, so that setup brings it back to full capacity before it quiesces them.
	for _, s := range inv.owned {
		adopted.DesiredCount += s.Desired
	}
	inv.adopted = prod
	v := inv.view(cfg, in.State)
	v.Production = &adopted.ServiceRef
	v.Adopted = adopted
	v.ProductionScaling = scalingView(scaling)
	in.View = v
	return prod, nil
}

// PreviewAdoption finds what a plan for an adopting create previews from: the service to adopt
// (checked as apply checks it), the revisions a killed adoption left, and production's auto
// scaling. It is the only plan that reads AWS: a create has no refresh before it. Nothing is
// written.
func (e *Engine) PreviewAdoption(ctx context.Context, cfg Config) (*View, error) {
	cluster, err := e.findClusterPatiently(ctx, cfg.Cluster)
	if err != nil {
		return nil, err
	}
	td, err := e.resolveTaskDefinition(ctx, cfg, State{})
	if err != nil {
		return nil, err
	}
	inv, err := e.listForCreate(ctx, cfg, cluster, 0)
	if err != nil {
		return nil, err
	}
	in := PreviewInput{Config: cfg}
	if _, err := e.adopt(ctx, &in, cluster, inv, aws.ToString(td.Family)); err != nil {
		return nil, err
	}
	in.View.TaskDefinitionARN = aws.ToString(td.TaskDefinitionArn)
	return in.View, nil
}

// claim tags the adopted service as this deployment's revision 0, once its rollout succeeded:
// from then on it is ours like any revision (retention prunes it, destroy deletes it).
func (r *phaseRun) claim(ctx context.Context) error {
	_, err := r.e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(r.fromARN), Tags: []types.Tag{
		{Key: aws.String(OwnerTag), Value: aws.String(r.cfg.DeploymentID)},
		{Key: aws.String(RevisionTag), Value: aws.String(fmt.Sprint(RevisionZero))},
	}})
	if err != nil {
		return fmt.Errorf("tagging the adopted service %s as this deployment's revision 0: %w", r.fromSvc, err)
	}
	r.claimed = true
	r.step(ctx, fmt.Sprintf("adopted %s: tagged %s = %q, %s = 0", r.fromSvc, OwnerTag, r.cfg.DeploymentID, RevisionTag), map[string]any{"service": r.fromSvc})
	return nil
}

// unclaim takes the ownership tags off an adopted service again after a rollback, so that a
// failed adoption leaves it as it was; a failure is a warning.
func (r *phaseRun) unclaim(ctx context.Context) {
	if !r.claimed {
		return
	}
	if _, err := r.e.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(r.fromARN), TagKeys: []string{OwnerTag, RevisionTag}}); err != nil {
		r.warn(ctx, fmt.Sprintf("could not take the ownership tags off %s again after the failed adoption: %v", r.fromSvc, err))
		return
	}
	r.claimed = false
}

// discardFailedAdoption deletes the revision a failed adoption created, once the rollback has
// brought the adopted service back: nothing of the adoption is recorded, so nothing of it stays.
func (r *phaseRun) discardFailedAdoption(ctx context.Context, re *RolloutError) {
	if _, err := r.e.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(r.cluster), Service: aws.String(r.toSvc)}); err != nil {
		r.warn(ctx, fmt.Sprintf("could not delete %s, the revision of the failed adoption, which stays at 0 tasks: %v", r.toSvc, err))
		return
	}
	re.RollbackSteps = append(re.RollbackSteps, "deleted "+r.toSvc)
}

// withAdopted adds the adopted service to the names discovery describes.
func withAdopted(names []string, st State) []string {
	if st.Adopted != nil && st.Adopted.Service != "" && !slices.Contains(names, st.Adopted.Service) {
		names = append(names, st.Adopted.Service)
	}
	return names
}
