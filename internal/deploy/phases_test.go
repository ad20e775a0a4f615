package deploy

import (
	"errors"
	"reflect"
	"testing"
)

func pct(ps ...int) []Phase {
	out := make([]Phase, len(ps))
	for i, p := range ps {
		out[i] = Phase{Percent: p}
	}
	return out
}

func counts(pairs ...int) []PhaseCounts {
	out := make([]PhaseCounts, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, PhaseCounts{New: pairs[i], Old: pairs[i+1]})
	}
	return out
}

func TestPlanPhases(t *testing.T) {
	tests := []struct {
		name     string
		desired  int
		prev     int
		phases   []Phase
		want     []PhaseCounts
		warnings []PhaseWarning
		lastErr  *LastPhaseError
	}{
		{
			name:    "a 25/50/100 canary of 8 tasks moves two, then two, then four",
			desired: 8, prev: 8, phases: pct(25, 50, 100),
			want: counts(2, 6, 4, 4, 8, 0),
		},
		{
			name:    "no phases means one phase at one hundred percent",
			desired: 4, prev: 4, phases: nil,
			want: counts(4, 0),
		},
		{
			name:    "percentages round up, so one task of one is moved by the first phase",
			desired: 1, prev: 1, phases: pct(10, 50, 100),
			want: counts(1, 0, 1, 0, 1, 0),
		},
		{
			name:    "three tasks at a third and two thirds round up to one and two, the old side rounds up too",
			desired: 3, prev: 3, phases: pct(33, 66, 100),
			want: counts(1, 2, 2, 1, 3, 0),
		},
		{
			name:    "seven tasks at 25 and 50 percent round up to two and four",
			desired: 7, prev: 7, phases: pct(25, 50, 100),
			want: counts(2, 5, 4, 3, 7, 0),
		},
		{
			name:    "the old service shrinks in proportion to its own pre-setup count when it differs from desired",
			desired: 8, prev: 4, phases: pct(25, 50, 100),
			want: counts(2, 3, 4, 2, 8, 0),
		},
		{
			name:    "a larger old service shrinks in proportion too",
			desired: 4, prev: 10, phases: pct(25, 50, 100),
			want: counts(1, 8, 2, 5, 4, 0),
		},
		{
			name:    "an old service at zero stays at zero",
			desired: 6, prev: 0, phases: pct(50, 100),
			want: counts(3, 0, 6, 0),
		},
		{
			name:    "a desired count of zero makes every phase zero and zero",
			desired: 0, prev: 5, phases: pct(25, 100),
			want: counts(0, 0, 0, 0),
		},
		{
			name:    "counts are capped at desired",
			desired: 3, prev: 3,
			phases: []Phase{{Count: 1}, {Count: 10}},
			want:   counts(1, 2, 3, 0),
		},
		{
			name:    "counts and percents mix",
			desired: 10, prev: 10,
			phases: []Phase{{Count: 1}, {Percent: 50}, {Percent: 100}},
			want:   counts(1, 9, 5, 5, 10, 0),
		},
		{
			name:    "a phase lower than an earlier one is ignored with a warning and keeps the earlier count",
			desired: 8, prev: 8,
			phases:   []Phase{{Percent: 50}, {Count: 1}, {Percent: 100}},
			want:     counts(4, 4, 4, 4, 8, 0),
			warnings: []PhaseWarning{{Phase: 2, Count: 1, Kept: 4}},
		},
		{
			name:    "an equal phase is not ignored and repeats the count",
			desired: 4, prev: 4, phases: pct(50, 50, 100),
			want: counts(2, 2, 2, 2, 4, 0),
		},
		{
			name:    "a last phase short of desired is an error naming it",
			desired: 8, prev: 8, phases: pct(25, 50),
			lastErr: &LastPhaseError{Phase: 2, Count: 4, Desired: 8},
		},
		{
			name:    "a last phase by count short of desired is an error",
			desired: 8, prev: 8, phases: []Phase{{Count: 2}, {Count: 4}},
			lastErr: &LastPhaseError{Phase: 2, Count: 4, Desired: 8},
		},
		{
			name:    "a last phase that is ignored because it is lower is an error too",
			desired: 8, prev: 8, phases: []Phase{{Percent: 100}, {Count: 1}},
			warnings: []PhaseWarning{{Phase: 2, Count: 1, Kept: 8}},
			lastErr:  &LastPhaseError{Phase: 2, Count: 1, Desired: 8},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := PlanPhases(tt.desired, tt.prev, tt.phases)
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %+v, want %+v", warnings, tt.warnings)
			}
			if tt.lastErr != nil {
				var le *LastPhaseError
				if !errors.As(err, &le) || *le != *tt.lastErr {
					t.Fatalf("error = %v, want %v", err, tt.lastErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("phases = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlanPhases_rejectsNegativeCounts(t *testing.T) {
	if _, _, err := PlanPhases(-1, 0, nil); err == nil {
		t.Fatal("a negative desired count was accepted")
	}
}
