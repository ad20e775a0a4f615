package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The generator of TestDifferential_planEqualsApply: a sequence is a pure function of its seed.
// Every random draw is made here, up front, in a fixed order, before anything runs; what a step
// does at run time depends on the seed and on what the provider did in earlier steps, never on
// a draw made later.

// Task definitions of family web in every differential env: the harness seeds web:1 and web:2
// (healthy) and web:3 (crash-on-start); the differential test registers web:4 and web:5 (healthy).
var (
	diffHealthy = []string{"web:1", "web:2", "web:4", "web:5"}
	diffCrash   = "web:3"
)

// diffTDARN is the ARN ECS gives task definition family:revision td in the provider's region.
func diffTDARN(td string) string {
	return "arn:aws:ecs:eu-west-1:000000000000:task-definition/" + td
}

// diffScaling is an auto_scaling block.
type diffScaling struct {
	min, max int
	target   int // target_tracking policy "cpu" at this target value; 0: no policy
}

// diffConfig is one configuration of resource ecs_phased_deployment.web.
type diffConfig struct {
	td        string // as written: family:revision, an ARN or the family alone
	desired   int    // desired_count; 0: unset (the generator never sets 0)
	scaling   *diffScaling
	tag       string // service { tags = { team = tag } }; "": no tag
	grace     int    // service { health_check_grace_period_seconds }; 0: unset
	phases    int    // index into diffPhaseSets
	retain    int    // retain_old_services; -1: unset (default 3)
	allAtOnce bool   // rollback { all_phases_at_once = true }
}

// diffPhaseSets are the phase lists the generator chooses from; each last phase reaches the
// desired count whatever it is (at most 6 here).
var diffPhaseSets = [][]string{
	nil,
	{"percent = 100"},
	{"percent = 50", "percent = 100"},
	{"percent = 25", "percent = 50", "percent = 100"},
	{"count = 1", "percent = 100"},
	{"count = 1", "count = 10"},
	{"percent = 50", "percent = 25", "percent = 100"}, // the second phase is ignored, with a warning
}

// tdKey is the task definition as family:revision ("web" stays "web").
func (c diffConfig) tdKey() string {
	if i := strings.LastIndex(c.td, "/"); i >= 0 {
		return c.td[i+1:]
	}
	return c.td
}

func (c diffConfig) crash() bool { return c.tdKey() == diffCrash }

// hcl renders the configuration (without the provider block).
func (c diffConfig) hcl() string {
	var b strings.Builder
	b.WriteString("resource \"ecs_phased_deployment\" \"web\" {\n  cluster         = \"prod\"\n  name            = \"web\"\n")
	fmt.Fprintf(&b, "  task_definition = %q\n", c.td)
	if c.desired > 0 {
		fmt.Fprintf(&b, "  desired_count   = %d\n", c.desired)
	}
	if c.tag != "" || c.grace > 0 {
		b.WriteString("\n  service {\n")
		if c.grace > 0 {
			fmt.Fprintf(&b, "    health_check_grace_period_seconds = %d\n", c.grace)
		}
		if c.tag != "" {
			fmt.Fprintf(&b, "    tags = { team = %q }\n", c.tag)
		}
		b.WriteString("  }\n")
	}
	if len(diffPhaseSets[c.phases]) > 0 {
		b.WriteString("\n")
	}
	for _, p := range diffPhaseSets[c.phases] {
		fmt.Fprintf(&b, "  phase { %s }\n", p)
	}
	if s := c.scaling; s != nil {
		fmt.Fprintf(&b, "\n  auto_scaling {\n    min_capacity = %d\n    max_capacity = %d\n", s.min, s.max)
		if s.target > 0 {
			fmt.Fprintf(&b, "    target_tracking {\n      name                   = \"cpu\"\n      predefined_metric_type = \"ECSServiceAverageCPUUtilization\"\n      target_value           = %d\n    }\n", s.target)
		}
		b.WriteString("  }\n")
	}
	if c.allAtOnce {
		b.WriteString("\n  rollback { all_phases_at_once = true }\n")
	}
	b.WriteString("\n")
	if c.retain >= 0 {
		fmt.Fprintf(&b, "  retain_old_services  = %d\n", c.retain)
	}
	b.WriteString("  steady_state_timeout = \"30s\"\n}\n")
	return b.String()
}

// summary is a short description of the configuration for logs.
func (c diffConfig) summary() string {
	parts := []string{"td=" + c.td}
	if c.desired > 0 {
		parts = append(parts, fmt.Sprintf("count=%d", c.desired))
	} else {
		parts = append(parts, "count=unset")
	}
	if s := c.scaling; s != nil {
		parts = append(parts, fmt.Sprintf("as=%d..%d/%d", s.min, s.max, s.target))
	}
	if c.tag != "" {
		parts = append(parts, "tag="+c.tag)
	}
	if c.grace > 0 {
		parts = append(parts, fmt.Sprintf("grace=%d", c.grace))
	}
	parts = append(parts, fmt.Sprintf("phases=%v", diffPhaseSets[c.phases]))
	if c.retain >= 0 {
		parts = append(parts, fmt.Sprintf("retain=%d", c.retain))
	}
	if c.allAtOnce {
		parts = append(parts, "all-at-once")
	}
	return strings.Join(parts, " ")
}

// Outside events between plan and apply.
const (
	evNone        = ""
	evAutoScale   = "autoscale"    // what a scaling activity would do, on production
	evManualScale = "manual-scale" // UpdateService desiredCount on production
	evTDOutside   = "td-outside"   // UpdateService taskDefinition on production
	evPrevDeleted = "prev-deleted" // DeleteService force on the recorded previous service
	evForeignNext = "foreign-next" // an untagged web__<next free revision>
)

// diffStep is one step: a configuration change, then plan, the event, apply and the checks.
type diffStep struct {
	change string // what changed, for logs
	cfg    diffConfig
	event  string
	n      int // the event's count (autoscale, manual-scale) or task definition index (td-outside)
}

// genSequence draws the sequence of seed: step 0 creates the deployment, steps 1..steps change it.
func genSequence(seed uint64, steps int) []diffStep {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	cfg := diffConfig{
		td:      diffHealthy[r.IntN(2)],
		desired: 1 + r.IntN(4),
		phases:  r.IntN(len(diffPhaseSets)),
		retain:  []int{-1, 0, 1, 2}[r.IntN(4)],
	}
	if r.IntN(3) == 0 {
		cfg.scaling = genScaling(r)
	}
	if r.IntN(4) == 0 {
		cfg.tag = "a"
	}
	out := []diffStep{{change: "create", cfg: cfg}}
	// deployed is the history of (task definition, template) the configurations asked for, for
	// "back" to return to the one before the last: a post-production rollback when it is
	// recorded as previous.
	history := []diffDeployed{{cfg.td, cfg.tag, cfg.grace}}
	for range steps {
		next := cfg
		change := genChange(r, &next, cfg, history[max(0, len(history)-2)])
		if r.IntN(5) == 0 { // sometimes a second change in the same step
			if c := genChange(r, &next, next, history[max(0, len(history)-2)]); c != "none" {
				change += "+" + c
			}
		}
		if last := history[len(history)-1]; !next.crash() && (next.td != last.td || next.tag != last.tag || next.grace != last.grace) {
			history = append(history, diffDeployed{next.td, next.tag, next.grace})
		}
		st := diffStep{change: change, cfg: next}
		switch x := r.IntN(100); {
		case x < 50:
		case x < 60:
			st.event = evAutoScale
		case x < 70:
			st.event = evManualScale
		case x < 80:
			st.event = evTDOutside
		case x < 90:
			st.event = evPrevDeleted
		default:
			st.event = evForeignNext
		}
		st.n = r.IntN(6) // drawn whatever the event, so that later draws do not depend on it
		out = append(out, st)
		cfg = next
	}
	return out
}

// diffDeployed is what a configuration deploys with: its task definition and service template.
type diffDeployed struct {
	td, tag string
	grace   int
}

func genScaling(r *rand.Rand) *diffScaling {
	lo := 1 + r.IntN(2)
	s := &diffScaling{min: lo, max: lo + r.IntN(4)}
	if r.IntN(3) > 0 {
		s.target = []int{50, 60, 75}[r.IntN(3)]
	}
	return s
}

// genChange changes next (a copy of cur) in one random way and names the change. back is the
// task definition and template of the configuration before the last one that changed them.
func genChange(r *rand.Rand, next *diffConfig, cur diffConfig, b diffDeployed) string {
	kind := r.IntN(100)
	if cur.crash() && r.IntN(10) < 7 {
		kind = 0 // leave a crashing task definition most of the time
	}
	switch {
	case kind < 20: // task definition forward: another healthy revision, in one of three forms
		td := diffHealthy[r.IntN(len(diffHealthy))]
		if td == cur.tdKey() {
			td = diffHealthy[(indexOf(diffHealthy, td)+1)%len(diffHealthy)]
		}
		switch f := r.IntN(20); {
		case f == 0:
			next.td = "web" // the family: its latest ACTIVE revision (web:5)
		case f < 3:
			next.td = diffTDARN(td)
		default:
			next.td = td
		}
		return "td>" + shortTD(next.td)
	case kind < 30: // back to the configuration before: a post-production rollback when recorded
		next.td, next.tag, next.grace = b.td, b.tag, b.grace
		return "back>" + shortTD(next.td)
	case kind < 34:
		next.td = diffCrash
		return "crash>" + diffCrash
	case kind < 48:
		n := 1 + r.IntN(4)
		if n == cur.desired {
			n = n%4 + 1
		}
		next.desired = n
		return fmt.Sprintf("count=%d", n)
	case kind < 53:
		if cur.desired == 0 {
			next.desired = 1 + r.IntN(4)
			return fmt.Sprintf("count=%d", next.desired)
		}
		next.desired = 0
		return "count=unset"
	case kind < 67:
		s := genScaling(r)
		switch {
		case cur.scaling == nil:
			next.scaling = s
			return fmt.Sprintf("as+%d..%d/%d", s.min, s.max, s.target)
		case r.IntN(5) < 2:
			next.scaling = nil
			return "as-"
		}
		if *s == *cur.scaling {
			s.max++
		}
		next.scaling = s
		return fmt.Sprintf("as~%d..%d/%d", s.min, s.max, s.target)
	case kind < 75:
		if r.IntN(2) == 0 {
			next.tag = []string{"", "a", "b"}[r.IntN(3)]
			if next.tag == cur.tag {
				next.tag = map[string]string{"": "a", "a": "b", "b": ""}[cur.tag]
			}
			return "tag=" + next.tag
		}
		next.grace = []int{0, 30, 60}[r.IntN(3)]
		if next.grace == cur.grace {
			next.grace = (cur.grace + 30) % 90
		}
		return fmt.Sprintf("grace=%d", next.grace)
	case kind < 83:
		p := r.IntN(len(diffPhaseSets))
		if p == cur.phases {
			p = (p + 1) % len(diffPhaseSets)
		}
		next.phases = p
		return fmt.Sprintf("phases=%d", p)
	case kind < 88:
		n := []int{-1, 0, 1, 2}[r.IntN(4)]
		if n == cur.retain {
			n = (n+2)%4 - 1
		}
		next.retain = n
		return fmt.Sprintf("retain=%d", n)
	case kind < 91:
		next.allAtOnce = !cur.allAtOnce
		return fmt.Sprintf("all-at-once=%v", next.allAtOnce)
	}
	return "none"
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func shortTD(td string) string {
	if strings.HasPrefix(td, "arn:") {
		return "arn/" + td[strings.LastIndex(td, "/")+1:]
	}
	return td
}
