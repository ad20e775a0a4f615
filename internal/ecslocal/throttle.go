package ecslocal

import "time"

// bucket is a token bucket: it holds at most burst tokens and gains refill tokens a second.
type bucket struct {
	tokens float64
	burst  float64
	refill float64
	last   time.Time
}

// bucketSizes are ECS's documented per-account request token buckets (burst, refill per
// second). Operations that are not listed get the default.
var bucketSizes = map[string][2]float64{
	"ecs:DescribeServices":       {100, 20},
	"ecs:ListServices":           {100, 20},
	"ecs:CreateService":          {50, 5},
	"ecs:UpdateService":          {50, 5},
	"ecs:DeleteService":          {50, 5},
	"ecs:DescribeTaskDefinition": {50, 20},
	"ecs:RegisterTaskDefinition": {20, 1},
	"ecs:TagResource":            {20, 10},
	"ecs:UntagResource":          {20, 10},
	"ecs:ListTasks":              {100, 20},
	"ecs:DescribeTasks":          {100, 20},
	"ecs:DescribeClusters":       {50, 20},
}

// defaultBucket applies to operations without a documented bucket of their own, Application
// Auto Scaling's included (AWS does not publish its rates).
var defaultBucket = [2]float64{50, 20}

// takeToken takes one token from the operation's bucket and reports whether there was one.
func (s *Server) takeToken(service, op string, now time.Time) bool {
	key := service + ":" + op
	b := s.buckets[key]
	if b == nil {
		size, ok := bucketSizes[key]
		if !ok {
			size = defaultBucket
		}
		b = &bucket{tokens: size[0], burst: size[0], refill: size[1], last: now}
		s.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed*b.refill)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
