package ecslocal

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// scheduleExpr is a parsed Schedule of an Application Auto Scaling scheduled action. The
// PutScheduledAction API reference
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html,
// Schedule) supports three forms:
//
//   - "at(yyyy-mm-ddThh:mm:ss)": once, in the action's time zone (UTC by default);
//   - "rate(value unit)": value a positive integer, unit minute | minutes | hour | hours | day |
//     days (the singular for a value of 1, the plural otherwise, as in every AWS rate expression);
//   - "cron(fields)": six fields separated by white space, [Minutes] [Hours] [Day_of_Month]
//     [Month] [Day_of_Week] [Year], in the action's time zone.
//
// Cron fields follow AWS's cron syntax (the user guide's "Schedule recurring scaling actions
// using Application Auto Scaling",
// https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html,
// points to it): minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12
// or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 is Sunday), year 1970-2199; the wildcards , - * /
// in every field, ? in day-of-month or day-of-week, L (last) and W (nearest weekday) in
// day-of-month, L and # (nth weekday of the month) in day-of-week. One of day-of-month and
// day-of-week must be ?, and only one: "You can't specify the Day-of-month and Day-of-week fields
// in the same cron expression. If you specify a value or a * in one of the fields, you must use a
// ? in the other." (a quotation of the EventBridge cron rules the guide refers to,
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions).
type scheduleExpr struct {
	kind  string        // "at", "rate" or "cron"
	at    [6]int        // at: year, month, day, hour, minute, second (wall clock of the time zone)
	every time.Duration // rate
	cron  *cronExpr
}

type cronExpr struct {
	minutes, hours, months [60]bool
	years                  map[int]bool // nil: every year
	domAny, dowAny         bool         // the field is ?
	dom                    [32]bool
	domLast                bool  // L
	domLastWeekday         bool  // LW
	domNearWeekday         []int // nW
	dow                    [8]bool
	dowNth                 [][2]int // d#n: weekday d, nth n
	dowLast                []int    // dL: the last weekday d of the month
}

const (
	cronMinYear = 1970
	cronMaxYear = 2199
)

// parseSchedule parses a Schedule; a bad one is a ValidationException.
func parseSchedule(s string) (*scheduleExpr, *apiError) {
	switch {
	case strings.HasPrefix(s, "at(") && strings.HasSuffix(s, ")"):
		t, err := time.Parse("2006-01-02T15:04:05", s[3:len(s)-1])
		if err != nil {
			return nil, errf(codeValidation, "Invalid at expression: %s. The expression must be of the form at(yyyy-mm-ddThh:mm:ss)", s)
		}
		return &scheduleExpr{kind: "at", at: [6]int{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()}}, nil
	case strings.HasPrefix(s, "rate(") && strings.HasSuffix(s, ")"):
		d, ok := parseRate(s[5 : len(s)-1])
		if !ok {
			return nil, errf(codeValidation, "Invalid rate expression: %s. The expression must be of the form rate(value unit), with value a positive integer and unit minute, minutes, hour, hours, day or days", s)
		}
		return &scheduleExpr{kind: "rate", every: d}, nil
	case strings.HasPrefix(s, "cron(") && strings.HasSuffix(s, ")"):
		c, err := parseCron(s[5 : len(s)-1])
		if err != nil {
			return nil, errf(codeValidation, "Invalid cron expression: %s. %v", s, err)
		}
		return &scheduleExpr{kind: "cron", cron: c}, nil
	}
	return nil, errf(codeValidation, "Unsupported schedule format: %s. Supported formats are at(yyyy-mm-ddThh:mm:ss), rate(value unit) and cron(fields)", s)
}

func parseRate(s string) (time.Duration, bool) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, false
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 || f[0] != strconv.Itoa(n) {
		return 0, false
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := f[1]
	if n != 1 {
		if !strings.HasSuffix(unit, "s") {
			return 0, false
		}
		unit = strings.TrimSuffix(unit, "s")
	}
	d, ok := units[unit]
	if !ok {
		return 0, false
	}
	return time.Duration(n) * d, true
}

var (
	cronMonthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	cronDayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(s string) (*cronExpr, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("a cron expression has six fields (minutes hours day-of-month month day-of-week year), not %d", len(f))
	}
	c := &cronExpr{}
	if err := cronField(f[0], 0, 59, nil, c.minutes[:]); err != nil {
		return nil, fmt.Errorf("minutes: %v", err)
	}
	if err := cronField(f[1], 0, 23, nil, c.hours[:]); err != nil {
		return nil, fmt.Errorf("hours: %v", err)
	}
	if err := cronField(f[3], 1, 12, cronMonthNames, c.months[:]); err != nil {
		return nil, fmt.Errorf("month: %v", err)
	}
	if f[5] != "*" {
		years := make([]bool, cronMaxYear+1)
		if err := cronField(f[5], cronMinYear, cronMaxYear, nil, years); err != nil {
			return nil, fmt.Errorf("year: %v", err)
		}
		c.years = map[int]bool{}
		for y, ok := range years {
			if ok {
				c.years[y] = true
			}
		}
	}
	c.domAny, c.dowAny = f[2] == "?", f[4] == "?"
	if c.domAny == c.dowAny {
		return nil, fmt.Errorf("exactly one of day-of-month and day-of-week must be ?")
	}
	if !c.domAny {
		if err := c.parseDOM(f[2]); err != nil {
			return nil, fmt.Errorf("day-of-month: %v", err)
		}
	}
	if !c.dowAny {
		if err := c.parseDOW(f[4]); err != nil {
			return nil, fmt.Errorf("day-of-week: %v", err)
		}
	}
	return c, nil
}

// cronField sets set[v] for every value v the field (a list of *, n, n-m, each with an optional
// /step) selects within [lo, hi].
func cronField(field string, lo, hi int, names map[string]int, set []bool) error {
	for _, item := range strings.Split(field, ",") {
		if err := cronItem(item, lo, hi, names, set); err != nil {
			return err
		}
	}
	return nil
}

func cronItem(item string, lo, hi int, names map[string]int, set []bool) error {
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 {
			return fmt.Errorf("bad increment in %q", item)
		}
		step = n
	}
	from, to := lo, hi
	switch {
	case rng == "*":
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		var err error
		if from, err = cronValue(a, lo, hi, names); err != nil {
			return err
		}
		if to, err = cronValue(b, lo, hi, names); err != nil {
			return err
		}
		if from > to {
			return fmt.Errorf("bad range %q", rng)
		}
	default:
		v, err := cronValue(rng, lo, hi, names)
		if err != nil {
			return err
		}
		from = v
		if !hasStep {
			to = v
		}
	}
	for v := from; v <= to; v += step {
		set[v] = true
	}
	return nil
}

func cronValue(s string, lo, hi int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, lo, hi)
	}
	return v, nil
}

func (c *cronExpr) parseDOM(field string) error {
	for _, item := range strings.Split(field, ",") {
		switch {
		case item == "L":
			c.domLast = true
		case item == "LW":
			c.domLastWeekday = true
		case strings.HasSuffix(item, "W"):
			d, err := cronValue(strings.TrimSuffix(item, "W"), 1, 31, nil)
			if err != nil {
				return err
			}
			c.domNearWeekday = append(c.domNearWeekday, d)
		default:
			if err := cronItem(item, 1, 31, nil, c.dom[:]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *cronExpr) parseDOW(field string) error {
	for _, item := range strings.Split(field, ",") {
		switch {
		case strings.Contains(item, "#"):
			a, b, _ := strings.Cut(item, "#")
			d, err := cronValue(a, 1, 7, cronDayNames)
			if err != nil {
				return err
			}
			n, err := cronValue(b, 1, 5, nil)
			if err != nil {
				return err
			}
			c.dowNth = append(c.dowNth, [2]int{d, n})
		case item == "L":
			c.dow[7] = true // L alone is the last day of the week, Saturday
		case len(item) > 1 && strings.HasSuffix(item, "L"):
			d, err := cronValue(strings.TrimSuffix(item, "L"), 1, 7, cronDayNames)
			if err != nil {
				return err
			}
			c.dowLast = append(c.dowLast, d)
		default:
			if err := cronItem(item, 1, 7, cronDayNames, c.dow[:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// dayMatches tells whether the cron expression selects the date y-m-d (not its time of day).
func (c *cronExpr) dayMatches(y int, m time.Month, d int) bool {
	if c.years != nil && !c.years[y] {
		return false
	}
	if !c.months[int(m)] {
		return false
	}
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if !c.domAny {
		if c.dom[d] || (c.domLast && d == last) {
			return true
		}
		if c.domLastWeekday && d == nearestWeekday(y, m, last, last) {
			return true
		}
		for _, n := range c.domNearWeekday {
			if n <= last && d == nearestWeekday(y, m, n, last) {
				return true
			}
		}
		return false
	}
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) + 1 // 1 is Sunday
	if c.dow[wd] {
		return true
	}
	for _, nth := range c.dowNth {
		if nth[0] == wd && (d-1)/7+1 == nth[1] {
			return true
		}
	}
	for _, l := range c.dowLast {
		if l == wd && d+7 > last {
			return true
		}
	}
	return false
}

// nearestWeekday is the weekday (Monday to Friday) nearest to day n of the month, within the
// month.
func nearestWeekday(y int, m time.Month, n, last int) int {
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	default:
		return n
	}
}

// next returns the first time after `after` the cron expression selects, in loc, or false if
// there is none before the end of year 2199.
func (c *cronExpr) next(after time.Time, loc *time.Location) (time.Time, bool) {
	t := after.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for day.Year() <= cronMaxYear {
		y, m, d := day.Date()
		switch {
		case c.years != nil && !c.years[y]:
			day = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		case !c.months[int(m)]:
			day = time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		case !c.dayMatches(y, m, d):
			day = day.AddDate(0, 0, 1)
			continue
		}
		// On the day of `after`, start from its hour and minute.
		h0, m0 := 0, 0
		if y == t.Year() && m == t.Month() && d == t.Day() {
			h0, m0 = t.Hour(), t.Minute()
		}
		for h := h0; h < 24; h++ {
			if !c.hours[h] {
				continue
			}
			mi := 0
			if h == h0 {
				mi = m0
			}
			for ; mi < 60; mi++ {
				if !c.minutes[mi] {
					continue
				}
				if at := time.Date(y, m, d, h, mi, 0, 0, loc); at.After(after) {
					return at, true
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}, false
}
