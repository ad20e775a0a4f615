package deploy

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// probeAhead is how many revisions above the recorded highest one discovery looks at: runs
// that were killed before Terraform saved state leave services there.
const probeAhead = 3

// liveService is one service as discovery saw it.
type liveService struct {
	Name           string
	ARN            string
	Revision       int
	Status         string
	Desired        int
	Running        int
	Pending        int
	TaskDefinition string
	Owned          bool
	svc            types.Service // as DescribeServices returned it
}

func (s *liveService) ref() *ServiceRef {
	return &ServiceRef{Name: s.Name, ARN: s.ARN, Revision: s.Revision, TaskDefinition: s.TaskDefinition, DesiredCount: s.Desired}
}

// inventory is what discovery found of one deployment's services.
type inventory struct {
	owned   []*liveService // ACTIVE owned services, by revision
	taken   map[string]bool
	highest int // highest revision number seen on any service of ours, or taken by anyone
	// prodScaling is production's auto scaling, read before a rollout; nil when it has none.
	prodScaling *scalingSettings
	// adopted is the service an adopting create takes over: production, not (yet) owned.
	adopted *liveService
}

func (inv *inventory) byName(name string) *liveService {
	for _, s := range inv.owned {
		if s.Name == name {
			return s
		}
	}
	if inv.adopted != nil && inv.adopted.Name == name {
		return inv.adopted
	}
	return nil
}

// RevisionName is the service name of revision n.
func RevisionName(base string, n int) string { return base + "__" + strconv.Itoa(n) }

// ParseRevision returns N when name is base__N.
func ParseRevision(base, name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, base+"__")
	if !ok || rest == "" || rest[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

func tagValue(tags []types.Tag, key string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}

// owns reports whether a service carries our ownership tag with this deployment's ID.
func owns(svc types.Service, deploymentID string) bool {
	v, ok := tagValue(svc.Tags, OwnerTag)
	return ok && v == deploymentID
}

func toLive(svc types.Service, base, deploymentID string) *liveService {
	rev, _ := ParseRevision(base, aws.ToString(svc.ServiceName))
	return &liveService{
		Name: aws.ToString(svc.ServiceName), ARN: aws.ToString(svc.ServiceArn), Revision: rev,
		Status: aws.ToString(svc.Status), Desired: int(svc.DesiredCount), Running: int(svc.RunningCount),
		Pending: int(svc.PendingCount), TaskDefinition: aws.ToString(svc.TaskDefinition),
		Owned: owns(svc, deploymentID), svc: svc,
	}
}

// discover finds this deployment's services. When state names the production service it
// describes only the revisions near the recorded ones (a handful of names, usually one call);
// it lists the cluster only when it must: on create or import, or when the recorded production
// service is gone. creating says that the operation may create a revision, whose name must be
// free.
func (e *Engine) discover(ctx context.Context, cfg Config, cluster string, st State, creating bool) (*inventory, error) {
	if st.Current != nil {
		inv, err := e.probe(ctx, cfg, cluster, st)
		if err != nil {
			return nil, err
		}
		if cur := inv.byName(st.Current.Name); cur != nil {
			return inv, nil
		}
		e.log().Warn(ctx, "recorded production service not found; listing the cluster", map[string]any{"service": st.Current.Name})
	}
	if creating {
		return e.listForCreate(ctx, cfg, cluster, st.HighestRevision)
	}
	return e.list(ctx, cfg, cluster)
}

// listForCreate is list, and then the names just above the highest revision it found (or
// above, when that is higher: state's highest) are described, further ones while all of those
// are taken. ListServices leaves out DRAINING
// services, whose names cannot be created again until they are INACTIVE: the DeleteService API
// reference (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html)
// says a deleted service with tasks to clean up "is no longer visible in the console or in the
// ListServices API operation", that DescribeServices still shows it, and that creating "a new
// service with the same name as an existing service in either ACTIVE or DRAINING status" is an
// error. A revision of this deployment that is still DRAINING counts toward the highest one.
func (e *Engine) listForCreate(ctx context.Context, cfg Config, cluster string, above int) (*inventory, error) {
	inv, err := e.list(ctx, cfg, cluster)
	if err != nil {
		return nil, err
	}
	for top := max(above, inv.highest); ; top += probeAhead {
		var names []string
		for n := top + 1; n <= top+probeAhead; n++ {
			names = append(names, RevisionName(cfg.Name, n))
		}
		found, err := e.findServices(ctx, cluster, names)
		if err != nil {
			return nil, err
		}
		inv.add(found, cfg)
		if !slices.ContainsFunc(names, func(n string) bool { return !inv.taken[n] }) {
			continue // every name of the window is held: look higher
		}
		inv.sort()
		return inv, nil
	}
}

// probe describes the revisions a deployment can have: the recorded current and previous
// services, the retained window below the highest revision, and a few above it.
func (e *Engine) probe(ctx context.Context, cfg Config, cluster string, st State) (*inventory, error) {
	inv := &inventory{taken: map[string]bool{}}
	h := max(st.HighestRevision, st.Current.Revision)
	low := max(1, h-cfg.RetainOldServices-2)
	names := []string{st.Current.Name}
	if st.Previous != nil && st.Previous.Name != st.Current.Name {
		names = append(names, st.Previous.Name)
	}
	names = withAdopted(names, st)
	for n := low; n <= h+probeAhead; n++ {
		if name := RevisionName(cfg.Name, n); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	top := h + probeAhead
	for {
		found, err := e.findServices(ctx, cluster, names)
		if err != nil {
			return nil, err
		}
		inv.add(found, cfg)
		// A service at the top of the probe means killed runs went further: look higher.
		if _, ok := found[RevisionName(cfg.Name, top)]; !ok {
			break
		}
		names = names[:0]
		for n := top + 1; n <= top+describeBatch; n++ {
			names = append(names, RevisionName(cfg.Name, n))
		}
		top += describeBatch
	}
	inv.sort()
	return inv, nil
}

// list lists the cluster's services, keeps those named <name>__N and describes them.
func (e *Engine) list(ctx context.Context, cfg Config, cluster string) (*inventory, error) {
	inv := &inventory{taken: map[string]bool{}}
	var names []string
	p := ecs.NewListServicesPaginator(e.ECS, &ecs.ListServicesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing ECS services of cluster %s: %w", cluster, err)
		}
		for _, arn := range page.ServiceArns {
			name := LastSegment(arn)
			if _, ok := ParseRevision(cfg.Name, name); ok {
				names = append(names, name)
			}
		}
	}
	found, err := e.findServices(ctx, cluster, names)
	if err != nil {
		return nil, err
	}
	inv.add(found, cfg)
	inv.sort()
	return inv, nil
}

func (inv *inventory) add(found map[string]types.Service, cfg Config) {
	for name, svc := range found {
		rev, isRevision := ParseRevision(cfg.Name, name)
		status := aws.ToString(svc.Status)
		if status != "INACTIVE" && isRevision {
			// ACTIVE and DRAINING names cannot be created again, whoever holds them.
			inv.taken[name] = true
		}
		if !owns(svc, cfg.DeploymentID) {
			continue
		}
		if isRevision && status != "INACTIVE" {
			// An INACTIVE revision is deleted, and its name free again.
			inv.highest = max(inv.highest, rev)
		}
		if status == "ACTIVE" && inv.byName(name) == nil {
			inv.owned = append(inv.owned, toLive(svc, cfg.Name, cfg.DeploymentID))
		}
	}
}

func (inv *inventory) sort() {
	slices.SortFunc(inv.owned, func(a, b *liveService) int { return a.Revision - b.Revision })
}

// view is what discovery found, in the terms a preview decides on.
func (inv *inventory) view(cfg Config, st State) *View {
	v := &View{HighestRevision: max(st.HighestRevision, inv.highest)}
	if prod := pickProduction(inv, st); prod != nil {
		v.Production = prod.ref()
		v.LeftSuspended, _ = tagValue(prod.svc.Tags, SuspendedTag)
	}
	if st.Previous != nil {
		if prev := inv.byName(st.Previous.Name); prev != nil && (v.Production == nil || prev.Name != v.Production.Name) {
			v.Previous = prev.ref()
		}
	}
	v.NextRevision = inv.nextFree(cfg.Name, v.HighestRevision)
	for _, s := range inv.owned {
		if strings.Contains(s.ARN, "/") {
			v.ServiceARNPrefix = ARNPrefix(s.ARN)
			break
		}
	}
	return v
}

// nextFree is the lowest revision above highest whose name nobody was seen to hold.
func (inv *inventory) nextFree(base string, highest int) int {
	n := highest + 1
	for inv.taken[RevisionName(base, n)] {
		n++
	}
	return n
}
