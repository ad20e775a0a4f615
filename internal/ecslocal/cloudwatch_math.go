package ecslocal

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metric math, the part of "Using metric math" that alarms and dashboards use most
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
// numbers, the Ids of other queries, arithmetic + - * / (series with series match by timestamp;
// a scalar applies to every point), comparisons < <= > >= == != and AND/&&, OR/|| giving 1 or 0,
// arrays [m1, m2], and the functions ABS, CEIL, FLOOR, SUM, AVG, MIN, MAX (a time series gives a
// scalar, an array of time series gives a time series), FILL(m, value|REPEAT), IF(condition,
// trueValue[, falseValue]) and METRICS([labelSubstring]). Anything else fails as a syntax error.

// mathNode is a parsed expression.
type mathNode struct {
	kind string // "num", "str", "ref", "kw", "call", "bin", "neg", "list"
	num  float64
	name string // ref id, keyword, function name, string, or binary operator
	args []*mathNode
}

func (n *mathNode) refs() []string {
	var out []string
	var walk func(*mathNode)
	walk = func(n *mathNode) {
		if n.kind == "ref" && !slices.Contains(out, n.name) {
			out = append(out, n.name)
		}
		for _, a := range n.args {
			walk(a)
		}
	}
	walk(n)
	return out
}

var mathFuncs = map[string]bool{"ABS": true, "CEIL": true, "FLOOR": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true, "FILL": true, "IF": true, "METRICS": true}

type mathParser struct {
	toks []string
	pos  int
}

func tokenizeMath(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				(s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		case strings.HasPrefix(s[i:], ">=") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], "==") ||
			strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||"):
			toks = append(toks, s[i:i+2])
			i += 2
		case strings.ContainsRune("+-*/()[],<>", rune(c)):
			toks = append(toks, string(c))
			i++
		default:
			return nil, fmt.Errorf("syntax error at character %q", c)
		}
	}
	return toks, nil
}

func parseMathExpr(s string) (*mathNode, error) {
	toks, err := tokenizeMath(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	p := &mathParser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("syntax error: unexpected %q", p.toks[p.pos])
	}
	return n, nil
}

func (p *mathParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *mathParser) binary(next func() (*mathNode, error), ops ...string) (*mathNode, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for slices.Contains(ops, p.peek()) {
		op := p.toks[p.pos]
		p.pos++
		r, err := next()
		if err != nil {
			return nil, err
		}
		switch op {
		case "AND":
			op = "&&"
		case "OR":
			op = "||"
		}
		l = &mathNode{kind: "bin", name: op, args: []*mathNode{l, r}}
	}
	return l, nil
}

func (p *mathParser) or() (*mathNode, error)  { return p.binary(p.and, "OR", "||") }
func (p *mathParser) and() (*mathNode, error) { return p.binary(p.cmp, "AND", "&&") }
func (p *mathParser) cmp() (*mathNode, error) {
	return p.binary(p.add, "<", "<=", ">", ">=", "==", "!=")
}
func (p *mathParser) add() (*mathNode, error) { return p.binary(p.mul, "+", "-") }
func (p *mathParser) mul() (*mathNode, error) { return p.binary(p.unary, "*", "/") }

func (p *mathParser) unary() (*mathNode, error) {
	if p.peek() == "-" {
		p.pos++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &mathNode{kind: "neg", args: []*mathNode{x}}, nil
	}
	return p.primary()
}

func (p *mathParser) expect(tok string) error {
	if p.peek() != tok {
		return fmt.Errorf("syntax error: expected %q", tok)
	}
	p.pos++
	return nil
}

// items parses a comma-separated list up to the closing token.
func (p *mathParser) items(closing string) ([]*mathNode, error) {
	var out []*mathNode
	if p.peek() == closing {
		p.pos++
		return out, nil
	}
	for {
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if p.peek() == "," {
			p.pos++
			continue
		}
		return out, p.expect(closing)
	}
}

func (p *mathParser) primary() (*mathNode, error) {
	tok := p.peek()
	if tok == "" {
		return nil, fmt.Errorf("syntax error: unexpected end of expression")
	}
	p.pos++
	switch c := tok[0]; {
	case tok == "(":
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		return n, p.expect(")")
	case tok == "[":
		items, err := p.items("]")
		return &mathNode{kind: "list", args: items}, err
	case c >= '0' && c <= '9' || c == '.':
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, fmt.Errorf("syntax error: %q is not a number", tok)
		}
		return &mathNode{kind: "num", num: v}, nil
	case c == '"' || c == '\'':
		return &mathNode{kind: "str", name: tok[1 : len(tok)-1]}, nil
	case c >= 'a' && c <= 'z':
		return &mathNode{kind: "ref", name: tok}, nil
	case c >= 'A' && c <= 'Z':
		if p.peek() != "(" {
			if tok == "REPEAT" || tok == "LINEAR" {
				return &mathNode{kind: "kw", name: tok}, nil
			}
			return nil, fmt.Errorf("unrecognized identifier %q", tok)
		}
		if !mathFuncs[tok] {
			return nil, fmt.Errorf("unrecognized function %s", tok)
		}
		p.pos++
		args, err := p.items(")")
		return &mathNode{kind: "call", name: tok, args: args}, err
	}
	return nil, fmt.Errorf("syntax error: unexpected %q", tok)
}

// mSeries is a time series on a period grid: values by bucket start (UnixNano).
type mSeries struct {
	period time.Duration
	pts    map[int64]float64
	counts map[int64]float64 // sample counts, for a MetricStat's series
	label  string
}

type cwPoint struct {
	at    time.Time
	v     float64
	count float64
}

func (m *mSeries) points(desc bool) []cwPoint {
	if m == nil {
		return nil
	}
	out := make([]cwPoint, 0, len(m.pts))
	for k, v := range m.pts {
		out = append(out, cwPoint{at: time.Unix(0, k).UTC(), v: v, count: m.counts[k]})
	}
	slices.SortFunc(out, func(a, b cwPoint) int {
		if desc {
			return b.at.Compare(a.at)
		}
		return a.at.Compare(b.at)
	})
	return out
}

// mVal is a metric math value: a scalar, a time series or an array of time series.
type mVal struct {
	scalar *float64
	ser    *mSeries
	list   []*mSeries
	isList bool
}

// mathCtx evaluates the queries of one request over [from, to).
type mathCtx struct {
	s        *Server
	from, to time.Time
	now      time.Time
	queries  map[string]cwMetricDataQuery
	order    []string
	done     map[string]*mVal
	visiting map[string]bool
}

// evalQueries computes every query of a request over [from, to): MetricStats from the metric
// store, expressions from the results they name.
func (s *Server) evalQueries(qs []cwMetricDataQuery, from, to, now time.Time) (map[string]*mSeries, *apiError) {
	c := &mathCtx{s: s, from: from, to: to, now: now, queries: map[string]cwMetricDataQuery{}, done: map[string]*mVal{}, visiting: map[string]bool{}}
	for _, q := range qs {
		c.queries[q.Id] = q
		c.order = append(c.order, q.Id)
	}
	out := map[string]*mSeries{}
	for _, q := range qs {
		v, err := c.query(q.Id)
		if err != nil {
			return nil, cwErr(cwCodeValidation, "Error in expression '%s': %v", q.Id, err)
		}
		switch {
		case v.isList:
			if q.returns() {
				return nil, cwErr(cwCodeValidation, "Error in expression '%s': the expression returns %d time series; a query that returns data must return one.", q.Id, len(v.list))
			}
		case v.scalar != nil:
			out[q.Id] = c.constant(*v.scalar, c.periodOf(q))
		default:
			out[q.Id] = v.ser
		}
	}
	return out, nil
}

func (c *mathCtx) periodOf(q cwMetricDataQuery) time.Duration {
	if q.Period != nil && *q.Period > 0 {
		return c.s.scaled(time.Duration(*q.Period) * time.Second)
	}
	var p time.Duration
	for _, id := range c.order {
		if ms := c.queries[id].MetricStat; ms != nil {
			p = max(p, c.s.scaled(time.Duration(*ms.Period)*time.Second))
		}
	}
	if p == 0 {
		p = c.s.scaled(time.Minute)
	}
	return p
}

// grid is the bucket starts of [from, to) at a period.
func (c *mathCtx) grid(period time.Duration) []int64 {
	var out []int64
	for b := cwBucketStart(c.from, period); b.Before(c.to) && len(out) < 100800; b = b.Add(period) {
		out = append(out, b.UnixNano())
	}
	return out
}

func (c *mathCtx) constant(v float64, period time.Duration) *mSeries {
	m := &mSeries{period: period, pts: map[int64]float64{}}
	for _, k := range c.grid(period) {
		m.pts[k] = v
	}
	return m
}

func (c *mathCtx) query(id string) (*mVal, error) {
	if v, ok := c.done[id]; ok {
		return v, nil
	}
	if c.visiting[id] {
		return nil, fmt.Errorf("circular reference to %s", id)
	}
	q, ok := c.queries[id]
	if !ok {
		return nil, fmt.Errorf("unrecognized identifier '%s'", id)
	}
	c.visiting[id] = true
	defer delete(c.visiting, id)
	var v *mVal
	if q.MetricStat != nil {
		m := c.s.metricSeries(q.MetricStat, c.from, c.to, c.now)
		m.label = q.Label
		if m.label == "" {
			m.label = q.MetricStat.Metric.MetricName
		}
		v = &mVal{ser: m}
	} else {
		n, err := parseMathExpr(q.Expression)
		if err != nil {
			return nil, err
		}
		if v, err = c.eval(n); err != nil {
			return nil, err
		}
		if v.ser != nil && q.Label != "" {
			v.ser.label = q.Label
		}
	}
	c.done[id] = v
	return v, nil
}

func (c *mathCtx) eval(n *mathNode) (*mVal, error) {
	switch n.kind {
	case "num":
		v := n.num
		return &mVal{scalar: &v}, nil
	case "ref":
		return c.query(n.name)
	case "neg":
		x, err := c.eval(n.args[0])
		if err != nil {
			return nil, err
		}
		return mapVal(x, func(v float64) float64 { return -v }), nil
	case "list":
		out := &mVal{isList: true}
		for _, a := range n.args {
			v, err := c.eval(a)
			if err != nil {
				return nil, err
			}
			switch {
			case v.isList:
				out.list = append(out.list, v.list...)
			case v.ser != nil:
				out.list = append(out.list, v.ser)
			default:
				return nil, fmt.Errorf("an array holds time series, not numbers")
			}
		}
		return out, nil
	case "bin":
		l, err := c.eval(n.args[0])
		if err != nil {
			return nil, err
		}
		r, err := c.eval(n.args[1])
		if err != nil {
			return nil, err
		}
		return binaryVal(n.name, l, r)
	case "call":
		return c.call(n)
	}
	return nil, fmt.Errorf("syntax error: unexpected %s", n.name)
}

func arith(op string, a, b float64) float64 {
	bit := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		return a / b
	case "<":
		return bit(a < b)
	case "<=":
		return bit(a <= b)
	case ">":
		return bit(a > b)
	case ">=":
		return bit(a >= b)
	case "==":
		return bit(a == b)
	case "!=":
		return bit(a != b)
	case "&&":
		return bit(a != 0 && b != 0)
	case "||":
		return bit(a != 0 || b != 0)
	}
	return math.NaN()
}

// mapVal applies f to every value; a result that is not a number (x/0) is no datapoint.
func mapVal(x *mVal, f func(float64) float64) *mVal {
	switch {
	case x.scalar != nil:
		v := f(*x.scalar)
		return &mVal{scalar: &v}
	case x.isList:
		out := &mVal{isList: true}
		for _, m := range x.list {
			out.list = append(out.list, mapSeries(m, f))
		}
		return out
	}
	return &mVal{ser: mapSeries(x.ser, f)}
}

func mapSeries(m *mSeries, f func(float64) float64) *mSeries {
	out := &mSeries{period: m.period, pts: map[int64]float64{}, label: m.label}
	for k, v := range m.pts {
		if r := f(v); !bad(r) {
			out.pts[k] = r
		}
	}
	return out
}

func binaryVal(op string, l, r *mVal) (*mVal, error) {
	switch {
	case l.scalar != nil && r.scalar != nil:
		v := arith(op, *l.scalar, *r.scalar)
		return &mVal{scalar: &v}, nil
	case r.scalar != nil:
		return mapVal(l, func(v float64) float64 { return arith(op, v, *r.scalar) }), nil
	case l.scalar != nil:
		return mapVal(r, func(v float64) float64 { return arith(op, *l.scalar, v) }), nil
	case l.isList && r.isList:
		return nil, fmt.Errorf("an operation between two arrays of time series is not supported")
	case l.isList:
		out := &mVal{isList: true}
		for _, m := range l.list {
			out.list = append(out.list, joinSeries(op, m, r.ser))
		}
		return out, nil
	case r.isList:
		out := &mVal{isList: true}
		for _, m := range r.list {
			out.list = append(out.list, joinSeries(op, l.ser, m))
		}
		return out, nil
	}
	return &mVal{ser: joinSeries(op, l.ser, r.ser)}, nil
}

// joinSeries combines two time series at the timestamps both have.
func joinSeries(op string, a, b *mSeries) *mSeries {
	out := &mSeries{period: max(a.period, b.period), pts: map[int64]float64{}}
	for k, v := range a.pts {
		if w, ok := b.pts[k]; ok {
			if r := arith(op, v, w); !bad(r) {
				out.pts[k] = r
			}
		}
	}
	return out
}

func reduce(name string, vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	r := vs[0]
	for _, v := range vs[1:] {
		switch name {
		case "SUM", "AVG":
			r += v
		case "MIN":
			r = math.Min(r, v)
		case "MAX":
			r = math.Max(r, v)
		}
	}
	if name == "AVG" {
		r /= float64(len(vs))
	}
	return r
}

func (c *mathCtx) call(n *mathNode) (*mVal, error) {
	argc := map[string][2]int{"ABS": {1, 1}, "CEIL": {1, 1}, "FLOOR": {1, 1}, "SUM": {1, 1}, "AVG": {1, 1}, "MIN": {1, 1}, "MAX": {1, 1}, "FILL": {2, 2}, "IF": {2, 3}, "METRICS": {0, 1}}[n.name]
	if len(n.args) < argc[0] || len(n.args) > argc[1] {
		return nil, fmt.Errorf("invalid number of arguments for function %s", n.name)
	}
	if n.name == "METRICS" {
		filter := ""
		if len(n.args) == 1 {
			if n.args[0].kind != "str" {
				return nil, fmt.Errorf("METRICS takes a string")
			}
			filter = n.args[0].name
		}
		out := &mVal{isList: true}
		for _, id := range c.order {
			if c.queries[id].MetricStat == nil {
				continue
			}
			v, err := c.query(id)
			if err != nil {
				return nil, err
			}
			if strings.Contains(v.ser.label, filter) {
				out.list = append(out.list, v.ser)
			}
		}
		return out, nil
	}
	var args []*mVal
	for i, a := range n.args {
		if a.kind == "kw" {
			if n.name != "FILL" || i != 1 || a.name != "REPEAT" {
				return nil, fmt.Errorf("%s is not supported here", a.name)
			}
			args = append(args, nil)
			continue
		}
		v, err := c.eval(a)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	x := args[0]
	switch n.name {
	case "ABS":
		return mapVal(x, math.Abs), nil
	case "CEIL":
		return mapVal(x, math.Ceil), nil
	case "FLOOR":
		return mapVal(x, math.Floor), nil
	case "SUM", "AVG", "MIN", "MAX":
		switch {
		case x.scalar != nil:
			return x, nil
		case x.isList:
			out := &mSeries{pts: map[int64]float64{}}
			byTime := map[int64][]float64{}
			for _, m := range x.list {
				out.period = max(out.period, m.period)
				for k, v := range m.pts {
					byTime[k] = append(byTime[k], v)
				}
			}
			for k, vs := range byTime {
				out.pts[k] = reduce(n.name, vs)
			}
			return &mVal{ser: out}, nil
		}
		vs := make([]float64, 0, len(x.ser.pts))
		for _, p := range x.ser.points(false) {
			vs = append(vs, p.v)
		}
		r := reduce(n.name, vs)
		if bad(r) {
			return &mVal{ser: &mSeries{period: x.ser.period, pts: map[int64]float64{}}}, nil
		}
		return &mVal{scalar: &r}, nil
	case "FILL":
		fill := func(m *mSeries) (*mSeries, error) {
			out := &mSeries{period: m.period, pts: map[int64]float64{}, label: m.label}
			last, have := 0.0, false
			for _, k := range c.grid(m.period) {
				if v, ok := m.pts[k]; ok {
					out.pts[k], last, have = v, v, true
					continue
				}
				switch {
				case args[1] == nil:
					if have {
						out.pts[k] = last
					}
				case args[1].scalar != nil:
					out.pts[k] = *args[1].scalar
				case args[1].ser != nil:
					if v, ok := args[1].ser.pts[k]; ok {
						out.pts[k] = v
					}
				default:
					return nil, fmt.Errorf("FILL takes a number, a time series or REPEAT")
				}
			}
			return out, nil
		}
		switch {
		case x.isList:
			out := &mVal{isList: true}
			for _, m := range x.list {
				f, err := fill(m)
				if err != nil {
					return nil, err
				}
				out.list = append(out.list, f)
			}
			return out, nil
		case x.ser != nil:
			f, err := fill(x.ser)
			return &mVal{ser: f}, err
		}
		return nil, fmt.Errorf("FILL takes a time series")
	case "IF":
		if x.ser == nil {
			return nil, fmt.Errorf("IF takes a time series as its condition")
		}
		out := &mSeries{period: x.ser.period, pts: map[int64]float64{}}
		pick := func(v *mVal, k int64) (float64, bool) {
			switch {
			case v == nil:
				return 0, false
			case v.scalar != nil:
				return *v.scalar, true
			case v.ser != nil:
				w, ok := v.ser.pts[k]
				return w, ok
			}
			return 0, false
		}
		var otherwise *mVal
		if len(args) == 3 {
			otherwise = args[2]
		}
		for k, cond := range x.ser.pts {
			branch := args[1]
			if cond == 0 {
				branch = otherwise
			}
			if v, ok := pick(branch, k); ok {
				out.pts[k] = v
			}
		}
		return &mVal{ser: out}, nil
	}
	return nil, fmt.Errorf("unrecognized function %s", n.name)
}
