package deploy_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// Fuzz targets for the phase arithmetic (DESIGN.md §4) and the revision names (§1). Plain
// `go test` runs their seeds; scripts/fuzz.sh runs each with -fuzz for a bounded time.

// phaseInput decodes fuzz bytes into a small PlanPhases call: the desired count and the old
// service's count P (two bytes each, so counts reach a few thousand), then one to eight
// phases of two bytes each. A phase's first byte picks percent or count (its low bit) and, for
// every fourth phase, a negative input that PlanPhases must reject; its second byte is the
// value. Missing bytes read as 0.
func phaseInput(data []byte) (desired, prev int, phases []deploy.Phase) {
	at := func(i int) int {
		if i < len(data) {
			return int(data[i])
		}
		return 0
	}
	desired = (at(0)<<8 | at(1)) % 5001
	prev = (at(2)<<8 | at(3)) % 5001
	if at(4)&0x80 != 0 {
		// Now and then a negative count, which must be an error and never a plan.
		if at(4)&0x40 != 0 {
			desired = -desired - 1
		} else {
			prev = -prev - 1
		}
	}
	n := 1 + at(4)%8
	for i := range n {
		kind, v := at(5+2*i), at(6+2*i)
		if kind&1 == 0 {
			phases = append(phases, deploy.Phase{Percent: 1 + v%100})
		} else {
			phases = append(phases, deploy.Phase{Count: 1 + v})
		}
	}
	return desired, prev, phases
}

// target is what a phase asks for (DESIGN.md §4): ceil(desired × p / 100) or min(c, desired).
func target(p deploy.Phase, desired int) int {
	if p.Percent > 0 {
		return (desired*p.Percent + 99) / 100
	}
	return min(p.Count, desired)
}

func FuzzPlanPhases(f *testing.F) {
	// Seeds: the contract's example (25/50/100 of 8 over 8), growing and shrinking services,
	// desired 0, a count phase beyond desired, a shrinking phase, a last phase short of desired,
	// negative counts, and large counts.
	for _, seed := range [][]byte{
		{0, 8, 0, 8, 2, 0, 24, 0, 49, 0, 99},
		{0, 10, 0, 3, 2, 0, 9, 0, 49, 0, 99},
		{0, 3, 0, 10, 1, 1, 0, 0, 99},
		{0, 0, 0, 8, 2, 0, 24, 0, 49, 0, 99},
		{0, 5, 0, 5, 1, 1, 20, 0, 99},
		{0, 8, 0, 8, 2, 0, 74, 0, 24, 0, 99},
		{0, 8, 0, 8, 1, 0, 24, 1, 1},
		{0, 8, 0, 8, 0x82, 0, 24, 0, 99},
		{0, 8, 0, 8, 0xc2, 0, 24, 0, 99},
		{19, 136, 0, 1, 7, 0, 0, 1, 0, 0, 9, 1, 255, 0, 50, 0, 98, 0, 99, 0, 99},
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		desired, prev, phases := phaseInput(data)
		got, warnings, err := deploy.PlanPhases(desired, prev, phases)
		if desired < 0 || prev < 0 {
			if err == nil {
				t.Fatalf("PlanPhases(%d, %d, %+v) = %v, want an error for a negative count", desired, prev, phases, got)
			}
			return
		}
		last := len(phases) - 1
		var lpe *deploy.LastPhaseError
		if short := target(phases[last], desired); short < desired {
			if !errors.As(err, &lpe) || lpe.Phase != last+1 || lpe.Count != short || lpe.Desired != desired {
				t.Fatalf("PlanPhases(%d, %d, %+v) = %v, %v; want a LastPhaseError for phase %d at %d of %d", desired, prev, phases, got, err, last+1, short, desired)
			}
			return
		}
		if err != nil {
			t.Fatalf("PlanPhases(%d, %d, %+v): %v", desired, prev, phases, err)
		}
		if len(got) != len(phases) {
			t.Fatalf("PlanPhases(%d, %d, %+v) planned %d phases, want %d", desired, prev, phases, len(got), len(phases))
		}
		reached, warned := 0, 0
		for i, pc := range got {
			// The new revision only grows: a phase asking for less keeps the count reached,
			// with a warning.
			want := target(phases[i], desired)
			if want < reached {
				warned++
				want = reached
			}
			reached = want
			if pc.New != want || pc.New < 0 || pc.New > desired {
				t.Fatalf("phase %d of %+v (desired %d): new count %d, want %d", i+1, phases, desired, pc.New, want)
			}
			if i > 0 && pc.New < got[i-1].New {
				t.Fatalf("phase %d shrinks the new revision: %v", i+1, got)
			}
			// The old service shrinks in inverse proportion, within [0, P].
			wantOld := 0
			if desired > 0 && i < last {
				wantOld = (prev*(desired-pc.New) + desired - 1) / desired
			}
			if pc.Old != wantOld || pc.Old < 0 || pc.Old > prev {
				t.Fatalf("phase %d of %+v (desired %d, P %d): old count %d, want %d in [0, %d]", i+1, phases, desired, prev, pc.Old, wantOld, prev)
			}
			if i > 0 && pc.Old > got[i-1].Old {
				t.Fatalf("phase %d grows the old service: %v", i+1, got)
			}
			// Capacity: the two services together never hold fewer than the smaller of P
			// and desired.
			if pc.New+pc.Old < min(prev, desired) {
				t.Fatalf("phase %d of %v holds %d tasks, fewer than min(P %d, desired %d)", i+1, got, pc.New+pc.Old, prev, desired)
			}
		}
		if got[last] != (deploy.PhaseCounts{New: desired, Old: 0}) {
			t.Fatalf("the last phase is %+v, want {%d 0}", got[last], desired)
		}
		if len(warnings) != warned {
			t.Fatalf("%d warnings %v, want %d", len(warnings), warnings, warned)
		}
	})
}

func FuzzParseRevision(f *testing.F) {
	f.Add("web", "7", 7)
	f.Add("web", "07", 1)
	f.Add("web", "0", 0)
	f.Add("web", "+7", 12)
	f.Add("web", "-7", -7)
	f.Add("web", " 7", 255)
	f.Add("web", "7__8", 8)
	f.Add("a__1", "2", 2)
	f.Add("web", "9223372036854775807", 1<<62)
	f.Add("web", "9223372036854775808", 1)
	f.Add("", "", 0)
	f.Add("web-app_2", "１", 3)
	f.Fuzz(func(t *testing.T, base, suffix string, n int) {
		// Any suffix: accepted exactly when it is the canonical decimal of a positive int, and
		// then the name round-trips.
		name := base + "__" + suffix
		got, ok := deploy.ParseRevision(base, name)
		canonical := false
		if v, err := strconv.Atoi(suffix); err == nil && v >= 1 && strconv.Itoa(v) == suffix {
			canonical = true
		}
		if ok != canonical {
			t.Fatalf("ParseRevision(%q, %q) = %d, %v; want ok = %v", base, name, got, ok, canonical)
		}
		if ok && (got < 1 || deploy.RevisionName(base, got) != name) {
			t.Fatalf("ParseRevision(%q, %q) = %d, which names %q", base, name, got, deploy.RevisionName(base, got))
		}
		// Any name at all: no panic, and whatever is accepted round-trips.
		if got, ok := deploy.ParseRevision(base, suffix); ok && deploy.RevisionName(base, got) != suffix {
			t.Fatalf("ParseRevision(%q, %q) = %d, which names %q", base, suffix, got, deploy.RevisionName(base, got))
		}
		if n < 1 {
			return
		}
		// Every revision number round-trips, and a leading zero is never a revision.
		if got, ok := deploy.ParseRevision(base, deploy.RevisionName(base, n)); !ok || got != n {
			t.Fatalf("ParseRevision(%q, RevisionName(%q, %d) = %q) = %d, %v", base, base, n, deploy.RevisionName(base, n), got, ok)
		}
		padded := base + "__0" + strconv.Itoa(n)
		if got, ok := deploy.ParseRevision(base, padded); ok {
			t.Fatalf("ParseRevision(%q, %q) = %d, want it rejected: a leading zero", base, padded, got)
		}
		// A revision of the base name <base>__1 is not one of base's.
		nested := deploy.RevisionName(base+"__1", n)
		if got, ok := deploy.ParseRevision(base, nested); ok {
			t.Fatalf("ParseRevision(%q, %q) = %d, want it rejected: it is %q's", base, nested, got, base+"__1")
		}
	})
}
