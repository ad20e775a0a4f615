package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Defaults of the configuration.
const (
	// DefaultSteadyStateTimeout bounds each wait when the configuration sets none.
	DefaultSteadyStateTimeout = 10 * time.Minute
	// DefaultRetainOldServices is how many zero-count old revisions are kept for rollback.
	DefaultRetainOldServices = 3
)

// rollbackSlack is the time a rollback step may take beyond its wait, for its API calls.
const rollbackSlack = time.Minute

// run is one engine operation in progress.
type run struct {
	e       *Engine
	cfg     Config
	cluster string // cluster name
	wt      *waiter
	res     *Result
	desired map[string]int           // desired counts the engine set or saw, by service
	seen    map[string]types.Service // the latest view of each service
	started time.Time
	// tagged holds the services that carry the SuspendedTag, as discovered or set.
	tagged map[string]bool
	// adoptedTemplate is the template an adoption copied from the adopted service, for state.
	adoptedTemplate *ServiceTemplate
}

func (e *Engine) newRun(cfg Config, cluster string) *run {
	if cfg.SteadyStateTimeout <= 0 {
		cfg.SteadyStateTimeout = DefaultSteadyStateTimeout
	}
	return &run{
		e: e, cfg: cfg, cluster: cluster, wt: newWaiter(e, cluster), res: &Result{},
		desired: map[string]int{}, seen: map[string]types.Service{}, started: e.clock().Now(),
		tagged: map[string]bool{},
	}
}

func (r *run) step(ctx context.Context, msg string, fields map[string]any) {
	r.res.Steps = append(r.res.Steps, Step{At: r.e.clock().Now(), Message: msg})
	if fields == nil {
		fields = map[string]any{}
	}
	fields["cluster"] = r.cluster
	r.e.log().Info(ctx, msg, fields)
}

func (r *run) warn(ctx context.Context, msg string) {
	r.res.Warnings = append(r.res.Warnings, msg)
	r.e.log().Warn(ctx, msg, map[string]any{"cluster": r.cluster})
}

// scale sets a service's desired count, skipping the call when it is already there.
func (r *run) scale(ctx context.Context, service string, n int) error {
	if cur, ok := r.desired[service]; ok && cur == n {
		return nil
	}
	out, err := r.e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(r.cluster), Service: aws.String(service), DesiredCount: aws.Int32(int32(n)),
	})
	if err != nil {
		// The call may have reached ECS before it failed (a cancel, a timeout): the count is
		// unknown now, so the next scale of this service, a rollback's, is always sent.
		delete(r.desired, service)
		return fmt.Errorf("scaling ECS service %s to %d: %w", service, n, err)
	}
	r.desired[service] = n
	r.seen[service] = *out.Service
	return nil
}

// behindLB reports a service behind a load balancer, as last seen.
func (r *run) behindLB(name string) bool {
	return len(r.seen[name].LoadBalancers) > 0
}

// waitFor waits for goals and remembers what it saw.
func (r *run) waitFor(ctx context.Context, kind string, goals []goal, w *watch) error {
	found, err := r.wt.wait(ctx, kind, goals, w, r.cfg.SteadyStateTimeout)
	for name, svc := range found {
		r.seen[name] = svc
	}
	return err
}

// resolveTaskDefinition checks that the configured task definition is ACTIVE and of the family
// production runs, and returns it.
func (e *Engine) resolveTaskDefinition(ctx context.Context, cfg Config, st State) (*types.TaskDefinition, error) {
	td, err := e.findTaskDefinition(ctx, cfg.TaskDefinition)
	if IsNotFound(err) {
		return nil, &InputError{Field: "task_definition", Message: fmt.Sprintf("task definition %q does not exist", cfg.TaskDefinition), Err: err}
	}
	if err != nil {
		return nil, err
	}
	if td.Status != types.TaskDefinitionStatusActive {
		return nil, &InputError{Field: "task_definition", Message: fmt.Sprintf("task definition %q is %s; only an ACTIVE task definition can be deployed", cfg.TaskDefinition, td.Status)}
	}
	if st.Current != nil && st.Current.TaskDefinition != "" {
		if was, now := Family(st.Current.TaskDefinition), aws.ToString(td.Family); was != now {
			return nil, &InputError{Field: "task_definition", Message: fmt.Sprintf("task definition %q is of family %q, but this deployment runs family %q; a different family needs a new resource", cfg.TaskDefinition, now, was)}
		}
	}
	return td, nil
}

// Family returns the family of "family", "family:revision" or a task definition ARN.
func Family(td string) string {
	family, _, _ := strings.Cut(LastSegment(td), ":")
	return family
}

// FamilyRevision returns "family:revision" of a task definition ARN or "family:revision", and
// the input unchanged when it has no revision.
func FamilyRevision(td string) string {
	return LastSegment(td)
}

// pickProduction finds the production service: state's current service when it is there,
// otherwise (state lost, a killed first apply) the highest owned revision holding tasks.
func pickProduction(inv *inventory, st State) *liveService {
	if st.Current != nil {
		if cur := inv.byName(st.Current.Name); cur != nil {
			return cur
		}
	}
	for i := len(inv.owned) - 1; i >= 0; i-- {
		if s := inv.owned[i]; s.Desired > 0 {
			return s
		}
	}
	return nil
}

// Threshold is the failed-task threshold for a desired count: the configured one, or ECS's
// circuit breaker rule min(max(ceil(desired / 2), 3), 200).
func Threshold(configured, desired int) int {
	if configured > 0 {
		return configured
	}
	return min(max(ceilDiv(desired, 2), 3), 200)
}

// Deploy rolls out a new revision (DESIGN.md §5): setup, phases, finish; on failure it rolls
// back (§8). The Result is non-nil whenever state should be saved: on success, and on a
// rolled-back update (with the prior services and the new highest revision). The error is a
// *RolloutError for a failed rollout and an *InputError for bad input found before anything
// changed.
func (e *Engine) Deploy(ctx context.Context, cfg Config, st State) (*Result, error) {
	action := ActionDeploy
	if st.Current == nil {
		action = ActionCreate
	}
	return e.operate(ctx, PreviewInput{Config: cfg, State: st}, action, nil)
}

// deploy carries out the rollout a preview decided, as a list of steps each of which is safe to
// run again after a crash.
func (r *run) deploy(ctx context.Context, inv *inventory, pv *Preview) (*Result, error) {
	d := pv.plan
	var prod *liveService
	if d.prod != nil {
		prod = inv.byName(d.prod.Name)
	}
	r.res.Phases = d.phases
	if err := r.restoreProduction(ctx, prod, d.p); err != nil {
		return nil, err
	}
	if err := r.quiesceOthers(ctx, inv, prod); err != nil {
		return nil, err
	}
	r.prune(ctx, inv, prod, r.res.Previous)
	var captured *scalingSettings
	if prod != nil {
		var err error
		if captured, err = r.suspendScaling(ctx, prod, inv.prodScaling); err != nil {
			return nil, err
		}
	}
	r.learnStartTime(ctx, prod)
	newSvc, err := r.createRevision(ctx, d, prod, captured)
	if err != nil {
		return nil, err
	}
	ro := &phaseRun{run: r, toSvc: newSvc, rev: d.rev, p: d.p, target: d.desired, phases: d.phases, started: r.started, sorted: map[string]bool{}}
	if prod != nil {
		ro.fromSvc, ro.fromARN, ro.prod = prod.Name, prod.ARN, prod
		ro.setRestore(captured)
	}
	if r.cfg.Analysis != nil {
		ro.gate = newGate(r.e, r.cfg.Analysis, newSvc, ro.fromSvc)
	}
	ro.adopting = pv.Action == ActionAdopt
	return ro.execute(ctx)
}

// restoreProduction brings production back to its count P, so the rollout starts from full
// capacity. Its tasks may also still be starting (a killed run had just scaled it up): the
// rollout waits for them too, or its first phase could shrink a service not yet at its count.
func (r *run) restoreProduction(ctx context.Context, prod *liveService, p int) error {
	if prod == nil {
		return nil
	}
	if prod.Desired < p {
		r.step(ctx, fmt.Sprintf("restoring production %s to its recorded %d tasks", prod.Name, p), map[string]any{"service": prod.Name, "count": p})
		if err := r.scale(ctx, prod.Name, p); err != nil {
			return err
		}
	}
	// Behind a load balancer, running is not serving: tasks a killed run had just restored may
	// not have passed a health check yet, and the other services must not shrink before they do.
	if prod.Desired < p || prod.Running < p || prod.Pending > 0 || len(prod.svc.LoadBalancers) > 0 {
		kind := waitStart
		if prod.Desired == p && prod.Running == p && prod.Pending == 0 {
			kind = waitServing
		}
		if err := r.waitFor(ctx, kind, []goal{{name: prod.Name, count: p}}, nil); err != nil {
			return fmt.Errorf("restoring production service %s to %d tasks: %w", prod.Name, p, err)
		}
	}
	return nil
}

// quiesceOthers scales every owned service but production to 0. A run killed after it put
// auto scaling on its new revision left a scalable target there, whose minimum would scale the
// service back up: it comes off first. A SuspendedTag a killed run left on a service that is
// not production any more is removed: it describes nothing now.
func (r *run) quiesceOthers(ctx context.Context, inv *inventory, prod *liveService) error {
	var others []string
	for _, s := range inv.owned {
		if prod != nil && s.Name == prod.Name {
			continue
		}
		r.untagSuspension(ctx, s.Name, s.ARN)
		if r.desired[s.Name] != 0 {
			others = append(others, s.Name)
		}
	}
	if len(others) == 0 {
		return nil
	}
	if err := r.e.removeScaling(ctx, r.cluster, others...); err != nil {
		return err
	}
	for _, name := range others {
		r.step(ctx, fmt.Sprintf("scaling non-production service %s to 0", name), map[string]any{"service": name})
		if err := r.scale(ctx, name, 0); err != nil {
			return err
		}
	}
	return nil
}

// learnStartTime learns from production's tasks how long a task takes to start, so that waits
// poll around the moment tasks are due.
func (r *run) learnStartTime(ctx context.Context, prod *liveService) {
	if prod == nil {
		return
	}
	if err := r.wt.learnStartTime(ctx, prod.Name); err != nil {
		r.warn(ctx, fmt.Sprintf("could not learn how long tasks take to start, so the rollout polls without that estimate: %v", err))
	}
}

// createRevision creates the decided revision's service at 0 tasks. When that fails, the auto
// scaling of production is resumed as it was.
func (r *run) createRevision(ctx context.Context, d *decision, prod *liveService, captured *scalingSettings) (string, error) {
	name, err := r.create(ctx, d.rev, d.tdARN)
	if err != nil {
		if prod != nil {
			if rerr := r.liftSuspension(context.WithoutCancel(ctx), prod.Name, prod.ARN, captured); rerr != nil {
				r.warn(ctx, rerr.Error())
			}
		}
		return "", err
	}
	r.res.HighestRevision = max(r.res.HighestRevision, d.rev)
	return name, nil
}

// create makes revision rev's service at 0 tasks.
func (r *run) create(ctx context.Context, rev int, tdARN string) (string, error) {
	name := RevisionName(r.cfg.Name, rev)
	in, err := r.createInput(name, rev, tdARN)
	if err != nil {
		return "", err
	}
	out, err := r.createService(ctx, in)
	var ipe *types.InvalidParameterException
	if errors.As(err, &ipe) && strings.Contains(ipe.ErrorMessage(), "not idempotent") {
		return "", fmt.Errorf("creating ECS service %s: the name was taken after this apply looked (a service that is not this deployment's holds it); applying again picks the next free name: %w", name, err)
	}
	if err != nil {
		return "", fmt.Errorf("creating ECS service %s: %w", name, err)
	}
	r.desired[name] = 0
	r.seen[name] = *out.Service
	r.wt.created[name] = r.e.clock().Now()
	r.step(ctx, fmt.Sprintf("created %s (revision %d) at 0 tasks with %s", name, rev, FamilyRevision(tdARN)), map[string]any{"service": name, "revision": rev})
	return name, nil
}

// createRetryWindow bounds the retries of CreateService errors that eventual consistency
// causes, as terraform-provider-aws bounds its own (about two minutes).
const createRetryWindow = 2 * time.Minute

// retriableCreate reports the CreateService errors that go away on their own: a cluster created
// moments ago that ECS cannot see yet, a target group whose listener was just created, and the
// service-linked role of an account's first service, which ECS creates on that first call.
func retriableCreate(err error) bool {
	var cnf *types.ClusterNotFoundException
	var ipe *types.InvalidParameterException
	switch {
	case errors.As(err, &cnf):
		return true
	case errors.As(err, &ipe):
		msg := ipe.ErrorMessage()
		return strings.Contains(msg, "does not have an associated load balancer") || strings.Contains(msg, "Unable to assume the service linked role")
	}
	return false
}

// createService calls CreateService, retrying the errors of eventual consistency with backoff
// for up to createRetryWindow. Every attempt sends the same client token.
func (r *run) createService(ctx context.Context, in *ecs.CreateServiceInput) (*ecs.CreateServiceOutput, error) {
	clock := r.e.clock()
	deadline := clock.Now().Add(createRetryWindow)
	wait := time.Second
	for {
		out, err := r.e.ECS.CreateService(ctx, in)
		if err == nil || !retriableCreate(err) || !clock.Now().Add(wait).Before(deadline) {
			return out, err
		}
		r.e.log().Warn(ctx, "CreateService failed with an error that eventual consistency explains; retrying", map[string]any{"service": aws.ToString(in.ServiceName), "error": err.Error(), "retry_in": wait.String()})
		if serr := clock.Sleep(ctx, wait); serr != nil {
			return nil, err
		}
		wait = min(2*wait, 15*time.Second)
	}
}

// createInput builds the CreateService request of a revision from the service template. Its
// client token is derived from the request's content and the run, so that the SDK's retries of
// one call are idempotent while a later create of the same name (after the name was freed) is a
// request of its own.
func (r *run) createInput(name string, rev int, tdARN string) (*ecs.CreateServiceInput, error) {
	t := r.cfg.Service
	fp, err := Fingerprint(tdARN, t)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", r.cfg.DeploymentID, name, fp, r.started.UnixNano()))
	in := &ecs.CreateServiceInput{
		Cluster: aws.String(r.cluster), ServiceName: aws.String(name), TaskDefinition: aws.String(tdARN),
		DesiredCount: aws.Int32(0), ClientToken: aws.String(hex.EncodeToString(sum[:])[:32]),
		EnableExecuteCommand: t.EnableExecuteCommand,
		Tags: []types.Tag{
			{Key: aws.String(OwnerTag), Value: aws.String(r.cfg.DeploymentID)},
			{Key: aws.String(RevisionTag), Value: aws.String(fmt.Sprint(rev))},
		},
		HealthCheckGracePeriodSeconds: int32Ptr(t.HealthCheckGracePeriodSeconds),
	}
	if t.LaunchType != "" {
		in.LaunchType = types.LaunchType(t.LaunchType)
	}
	if t.PlatformVersion != "" {
		in.PlatformVersion = aws.String(t.PlatformVersion)
	}
	if t.PropagateTags != "" {
		in.PropagateTags = types.PropagateTags(t.PropagateTags)
	}
	if t.AvailabilityZoneRebalancing != "" {
		in.AvailabilityZoneRebalancing = types.AvailabilityZoneRebalancing(t.AvailabilityZoneRebalancing)
	}
	for _, cp := range t.CapacityProviderStrategy {
		in.CapacityProviderStrategy = append(in.CapacityProviderStrategy, types.CapacityProviderStrategyItem{
			CapacityProvider: aws.String(cp.CapacityProvider), Weight: int32(cp.Weight), Base: int32(cp.Base),
		})
	}
	if n := t.Network; n != nil {
		assign := types.AssignPublicIpDisabled
		if n.AssignPublicIP {
			assign = types.AssignPublicIpEnabled
		}
		in.NetworkConfiguration = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: n.Subnets, SecurityGroups: n.SecurityGroups, AssignPublicIp: assign,
		}}
	}
	for _, lb := range t.LoadBalancers {
		in.LoadBalancers = append(in.LoadBalancers, types.LoadBalancer{
			TargetGroupArn: aws.String(lb.TargetGroupARN), ContainerName: aws.String(lb.ContainerName),
			ContainerPort: aws.Int32(int32(lb.ContainerPort)),
		})
	}
	for _, arn := range t.ServiceRegistries {
		in.ServiceRegistries = append(in.ServiceRegistries, types.ServiceRegistry{RegistryArn: aws.String(arn)})
	}
	keys := make([]string, 0, len(t.Tags))
	for k := range t.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k != OwnerTag && k != RevisionTag {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(t.Tags[k])})
		}
	}
	return in, nil
}

func int32Ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	return aws.Int32(int32(*p))
}

// prune deletes owned zero-count services beyond the newest RetainOldServices, oldest first,
// never production and never the recorded previous service. A failed deletion is a warning:
// pruning is cleanup, not part of the rollout.
func (r *run) prune(ctx context.Context, inv *inventory, prod *liveService, previous *ServiceRef) {
	var zero []*liveService
	for i := len(inv.owned) - 1; i >= 0; i-- {
		s := inv.owned[i]
		if (prod != nil && s.Name == prod.Name) || r.desired[s.Name] != 0 {
			continue
		}
		zero = append(zero, s)
	}
	if len(zero) <= r.cfg.RetainOldServices {
		return
	}
	doomed := zero[r.cfg.RetainOldServices:]
	slices.Reverse(doomed)
	kept := inv.owned[:0:0]
	for _, s := range doomed {
		if previous != nil && s.Name == previous.Name {
			continue
		}
		if _, err := r.e.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(r.cluster), Service: aws.String(s.Name)}); err != nil {
			r.warn(ctx, fmt.Sprintf("could not delete old service %s (retain_old_services = %d): %v; the next apply tries again", s.Name, r.cfg.RetainOldServices, err))
			continue
		}
		delete(r.desired, s.Name)
		r.step(ctx, fmt.Sprintf("deleted old service %s (beyond retain_old_services = %d)", s.Name, r.cfg.RetainOldServices), map[string]any{"service": s.Name})
	}
	for _, s := range inv.owned {
		if _, ok := r.desired[s.Name]; ok {
			kept = append(kept, s)
		}
	}
	inv.owned = kept
}
