package ecslocal

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
)

// Seed is what ecslocal can be started with: clusters to create and task definitions to register
// (each a RegisterTaskDefinition request body, in order).
type Seed struct {
	Clusters        []string          `json:"clusters"`
	TaskDefinitions []json.RawMessage `json:"taskDefinitions"`
}

// ApplySeed creates the seed's clusters and registers its task definitions, as CreateCluster and
// RegisterTaskDefinition calls would (they do not appear in the call log).
func (s *Server) ApplySeed(sd Seed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rc := &reqCtx{now: s.clock.Now(), region: s.opts.Region}
	s.advanceLocked(rc.now)
	for _, name := range sd.Clusters {
		body, _ := json.Marshal(map[string]string{"clusterName": name})
		if _, err := s.createCluster(rc, body); err != nil {
			return fmt.Errorf("seeding cluster %q: %s", name, err.Message)
		}
	}
	for i, td := range sd.TaskDefinitions {
		if _, err := s.registerTaskDefinition(rc, td); err != nil {
			return fmt.Errorf("seeding task definition %d: %s", i+1, err.Message)
		}
	}
	return nil
}

// LoadSeedFile reads a Seed from a JSON file.
func LoadSeedFile(path string) (Seed, error) {
	var sd Seed
	b, err := os.ReadFile(path)
	if err != nil {
		return sd, err
	}
	if err := json.Unmarshal(b, &sd); err != nil {
		return sd, fmt.Errorf("parsing seed file %s: %w", path, err)
	}
	return sd, nil
}

// ServiceStatus is one service in a StatusReport.
type ServiceStatus struct {
	Cluster        string            `json:"cluster"`
	Name           string            `json:"name"`
	Status         string            `json:"status"`
	TaskDefinition string            `json:"taskDefinition"` // family:revision
	Desired        int               `json:"desired"`
	Running        int               `json:"running"`
	Pending        int               `json:"pending"`
	Tags           map[string]string `json:"tags"`
	AutoScaling    *AutoScalingState `json:"autoScaling,omitempty"`
}

// AutoScalingState is the scalable target registered for a service, if any.
type AutoScalingState struct {
	Min      int      `json:"min"`
	Max      int      `json:"max"`
	Policies []string `json:"policies"`
}

// StatusReport is a snapshot of every cluster's services, for people and demos.
type StatusReport struct {
	Services []ServiceStatus `json:"services"`
}

// Status returns every ACTIVE and DRAINING service with its counts, tags and auto scaling.
func (s *Server) Status() StatusReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	rep := StatusReport{Services: []ServiceStatus{}}
	for _, cname := range sortedKeys(s.clusters) {
		c := s.clusters[cname]
		for _, name := range c.order {
			svc := c.services[name]
			if svc.status == "INACTIVE" {
				continue
			}
			running, pending := svc.counts()
			st := ServiceStatus{
				Cluster: cname, Name: name, Status: svc.status,
				TaskDefinition: svc.taskDef.family + ":" + strconv.Itoa(svc.taskDef.revision),
				Desired:        svc.desired, Running: running, Pending: pending, Tags: map[string]string{},
			}
			for _, t := range svc.tags {
				st.Tags[t.Key] = t.Value
			}
			id := scalableResourceID(cname, name)
			if tg := s.targets[id]; tg != nil {
				st.AutoScaling = &AutoScalingState{Min: tg.min, Max: tg.max, Policies: []string{}}
				for _, p := range s.policies {
					if p.resourceID == id {
						st.AutoScaling.Policies = append(st.AutoScaling.Policies, p.name)
					}
				}
				slices.Sort(st.AutoScaling.Policies)
			}
			rep.Services = append(rep.Services, st)
		}
	}
	return rep
}
