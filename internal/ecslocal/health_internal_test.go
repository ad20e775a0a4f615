package ecslocal

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestSimulate checks the health checker's transitions against the ELB and Docker rules.
func TestSimulate(t *testing.T) {
	elb := hcRule{interval: 30 * time.Second, healthyFromUnhealthy: 5, unhealthyAfter: 2}
	docker := hcRule{interval: 10 * time.Second, healthyFromUnhealthy: 1, unhealthyAfter: 3, countFrom: 30 * time.Second}
	render := func(steps []hcStep) []string {
		var out []string
		for _, s := range steps {
			name := map[hcState]string{hcInitial: "initial", hcHealthy: "healthy", hcUnhealthy: "unhealthy"}[s.state]
			if s.state == hcInitial && s.checked {
				name += "+checked"
			}
			out = append(out, fmt.Sprintf("%s %s", s.off, name))
		}
		return out
	}
	cases := []struct {
		name string
		r    hcRule
		b    string
		want []string
	}{
		{"a healthy target passes its first check", elb, "healthy", []string{"0s initial", "30s healthy"}},
		{"an unhealthy target fails UnhealthyThresholdCount checks", elb, "unhealthy", []string{"0s initial", "30s initial+checked", "1m0s unhealthy"}},
		{"a slow target needs HealthyThresholdCount passes once unhealthy", elb, "healthy-after=100s", []string{"0s initial", "30s initial+checked", "1m0s unhealthy", "4m0s healthy"}},
		{"one failure does not make a new target unhealthy", elb, "healthy-after=45s", []string{"0s initial", "30s initial+checked", "1m0s healthy"}},
		{"a target that starts failing", elb, "unhealthy-after=90s", []string{"0s initial", "30s healthy", "2m0s unhealthy"}},
		{"a target failing before its first check", elb, "unhealthy-after=10s", []string{"0s initial", "30s initial+checked", "1m0s unhealthy"}},
		{"failures within the start period do not count", docker, "unhealthy", []string{"0s initial", "10s initial+checked", "50s unhealthy"}},
		{"a container that starts failing", docker, "unhealthy-after=45s", []string{"0s initial", "10s healthy", "1m10s unhealthy"}},
		{"a container recovers at its first pass", docker, "healthy-after=65s", []string{"0s initial", "10s initial+checked", "50s unhealthy", "1m10s healthy"}},
	}
	for _, c := range cases {
		b, err := parseHealthBehavior("label", c.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := render(simulate(c.r, b)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// Long runs are applied at once.
	start := time.Now()
	b, _ := parseHealthBehavior("label", "healthy-after=10000h")
	got := simulate(hcRule{interval: time.Millisecond, healthyFromUnhealthy: 5, unhealthyAfter: 2}, b)
	if last := got[len(got)-1]; last.state != hcHealthy || last.off != 10000*time.Hour+4*time.Millisecond || time.Since(start) > time.Second {
		t.Fatalf("long run: %v in %s", got, time.Since(start))
	}
	for _, bad := range []string{"", "sick", "healthy-after", "healthy-after=x", "unhealthy=1s", "healthy=1s"} {
		if _, err := parseHealthBehavior("ecslocal.elb-health", bad); err == nil {
			t.Errorf("label %q parsed", bad)
		}
	}
}
