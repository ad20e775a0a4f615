package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Lookups go through one find function per kind, in the manner of terraform-provider-aws's
// find → status → wait chain: each turns "not there" into one *NotFoundError, whichever way
// ECS said it (an error, a failure entry, an INACTIVE status), or leaves what is not there out
// of its result: FindCluster, findServices and findOwnedService, findTaskDefinition,
// describeTasks, findScalableTargets. Every Describe call of the engine is one of these.

// NotFoundError says that ECS does not have an object, or has it in a state that counts as gone.
type NotFoundError struct {
	What   string // kind and name, e.g. `ECS cluster "prod"`
	Reason string // what ECS said, e.g. MISSING or INACTIVE
}

func (e *NotFoundError) Error() string {
	if e.Reason == "" {
		return e.What + " not found"
	}
	return fmt.Sprintf("%s not found (%s)", e.What, e.Reason)
}

// IsNotFound reports whether err is, or wraps, a *NotFoundError.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// ClusterAPI is the call FindCluster needs; *ecs.Client implements it.
type ClusterAPI interface {
	DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, optFns ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
}

// FindCluster describes one ACTIVE cluster by name or ARN. DescribeClusters reports an unknown
// cluster as a failure with reason MISSING rather than as an error, and a deleted one as
// INACTIVE; both are a *NotFoundError.
func FindCluster(ctx context.Context, api ClusterAPI, ref string) (*types.Cluster, error) {
	out, err := api.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{ref}})
	if err != nil {
		var cnf *types.ClusterNotFoundException
		if errors.As(err, &cnf) {
			return nil, &NotFoundError{What: fmt.Sprintf("ECS cluster %q", ref), Reason: "ClusterNotFoundException"}
		}
		return nil, fmt.Errorf("describing ECS cluster %s: %w", ref, err)
	}
	if len(out.Failures) > 0 {
		f := out.Failures[0]
		if reason := aws.ToString(f.Reason); reason != "MISSING" {
			return nil, fmt.Errorf("describing ECS cluster %s: failure %s: %s", ref, reason, aws.ToString(f.Detail))
		}
		return nil, &NotFoundError{What: fmt.Sprintf("ECS cluster %q", ref), Reason: "MISSING"}
	}
	if len(out.Clusters) == 0 {
		return nil, &NotFoundError{What: fmt.Sprintf("ECS cluster %q", ref)}
	}
	cl := out.Clusters[0]
	if status := aws.ToString(cl.Status); status != "ACTIVE" {
		return nil, &NotFoundError{What: fmt.Sprintf("ECS cluster %q", ref), Reason: status}
	}
	return &cl, nil
}

// findCluster returns the cluster's name, or an *InputError on the cluster argument when it is
// not there.
func (e *Engine) findCluster(ctx context.Context, ref string) (string, error) {
	cl, err := FindCluster(ctx, e.ECS, ref)
	if IsNotFound(err) {
		return "", &InputError{Field: "cluster", Message: fmt.Sprintf("ECS cluster %q does not exist or is not ACTIVE", ref), Err: err}
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(cl.ClusterName), nil
}

// clusterAppearWindow is how long preflight waits for a cluster it cannot see: ECS's reads are
// eventually consistent, and a cluster created earlier in the same apply may be MISSING from
// DescribeClusters for a moment.
const clusterAppearWindow = 8 * time.Second

// findClusterPatiently is findCluster, looking again with backoff for clusterAppearWindow
// before it calls a cluster missing.
func (e *Engine) findClusterPatiently(ctx context.Context, ref string) (string, error) {
	clock := e.clock()
	deadline := clock.Now().Add(clusterAppearWindow)
	wait := time.Second
	for {
		name, err := e.findCluster(ctx, ref)
		var ie *InputError
		if !errors.As(err, &ie) || !clock.Now().Add(wait).Before(deadline) {
			return name, err
		}
		e.log().Debug(ctx, "cluster not visible yet; looking again", map[string]any{"cluster": ref, "retry_in": wait.String()})
		if serr := clock.Sleep(ctx, wait); serr != nil {
			return "", err
		}
		wait *= 2
	}
}

// LastSegment returns what follows the last "/" of an ARN, or the input when it has none: the
// name in a cluster or service ARN, family:revision in a task definition ARN.
func LastSegment(s string) string {
	return s[strings.LastIndex(s, "/")+1:]
}

// ARNPrefix returns an ARN up to and including its last "/": what a sibling's ARN starts with.
func ARNPrefix(arn string) string {
	return arn[:strings.LastIndex(arn, "/")+1]
}

// describeBatch is the most services one DescribeServices call takes.
const describeBatch = 10

// findServices describes services by name, ten a call, with their tags. Services ECS does not
// have are absent from the result.
func (e *Engine) findServices(ctx context.Context, cluster string, names []string) (map[string]types.Service, error) {
	out := map[string]types.Service{}
	for batch := range slices.Chunk(names, describeBatch) {
		resp, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(cluster), Services: batch, Include: []types.ServiceField{types.ServiceFieldTags},
		})
		if err != nil {
			return nil, fmt.Errorf("describing ECS services %s: %w", strings.Join(batch, ", "), err)
		}
		for _, svc := range resp.Services {
			out[aws.ToString(svc.ServiceName)] = svc
		}
	}
	return out, nil
}

// findOwnedService describes one ACTIVE service of this deployment. A service that is missing
// or not ACTIVE is a *NotFoundError; one without our ownership tag is an error that says so.
func (e *Engine) findOwnedService(ctx context.Context, cluster, name, deploymentID string) (types.Service, error) {
	found, err := e.findServices(ctx, cluster, []string{name})
	if err != nil {
		return types.Service{}, err
	}
	svc, ok := found[name]
	if !ok {
		return types.Service{}, &NotFoundError{What: "ECS service " + name, Reason: "MISSING"}
	}
	if status := aws.ToString(svc.Status); status != "ACTIVE" {
		return types.Service{}, &NotFoundError{What: "ECS service " + name, Reason: status}
	}
	if !owns(svc, deploymentID) {
		return types.Service{}, fmt.Errorf("ECS service %s does not carry the tag %s = %q; it is not this deployment's and is left alone", name, OwnerTag, deploymentID)
	}
	return svc, nil
}

// findTaskDefinition describes a task definition by family, family:revision or ARN. ECS answers
// one it does not have with a ClientException ("Unable to describe task definition"), which is a
// *NotFoundError; other errors (access denied, throttling) are returned as they are.
func (e *Engine) findTaskDefinition(ctx context.Context, ref string) (*types.TaskDefinition, error) {
	out, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	if err != nil {
		var ce *types.ClientException
		if errors.As(err, &ce) && strings.Contains(ce.ErrorMessage(), "Unable to describe task definition") {
			return nil, &NotFoundError{What: fmt.Sprintf("task definition %q", ref), Reason: ce.ErrorMessage()}
		}
		return nil, fmt.Errorf("describing task definition %s: %w", ref, err)
	}
	return out.TaskDefinition, nil
}

// describeTasks describes tasks by ARN, a hundred a call (DescribeTasks's limit). Tasks ECS no
// longer has are absent from the result.
func (e *Engine) describeTasks(ctx context.Context, cluster string, arns []string) ([]types.Task, error) {
	var tasks []types.Task
	for batch := range slices.Chunk(arns, 100) {
		out, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch})
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, out.Tasks...)
	}
	return tasks, nil
}

// findScalableTargets describes the scalable targets of services' desired counts, fifty
// services a call (DescribeScalableTargets's limit), by service name. A service without one is
// absent from the result.
func (e *Engine) findScalableTargets(ctx context.Context, cluster string, services ...string) (map[string]aastypes.ScalableTarget, error) {
	found := map[string]aastypes.ScalableTarget{}
	for batch := range slices.Chunk(services, 50) {
		ids := make([]string, 0, len(batch))
		for _, s := range batch {
			ids = append(ids, resourceID(cluster, s))
		}
		out, err := e.AutoScaling.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: ids,
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		})
		if err != nil {
			return nil, fmt.Errorf("describing the scalable targets of %s: %w", strings.Join(batch, ", "), err)
		}
		for _, t := range out.ScalableTargets {
			found[LastSegment(aws.ToString(t.ResourceId))] = t
		}
	}
	return found, nil
}
