package ecslocal

import (
	"testing"
	"time"
)

func TestScheduleExpr_cronNext(t *testing.T) {
	utc := time.UTC
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		cron, after string
		loc         *time.Location
		want        []string // the next occurrences, in order; none when empty
	}{
		{"0 9 * * ? *", "2026-11-26T12:00:00Z", utc, []string{"2026-11-27T09:00:00Z", "2026-11-28T09:00:00Z"}},
		{"*/15 * * * ? *", "2026-11-26T12:07:30Z", utc, []string{"2026-11-26T12:15:00Z", "2026-11-26T12:30:00Z"}},
		{"5/20 10-11 * * ? *", "2026-11-26T10:45:00Z", utc, []string{"2026-11-26T11:05:00Z", "2026-11-26T11:25:00Z", "2026-11-26T11:45:00Z", "2026-11-27T10:05:00Z"}},
		// 2026-11-26 is a Thursday; MON-FRI skips the weekend.
		{"0 8 ? * MON-FRI *", "2026-11-27T09:00:00Z", utc, []string{"2026-11-30T08:00:00Z"}},
		{"0 8 ? * 2,6 *", "2026-11-26T09:00:00Z", utc, []string{"2026-11-27T08:00:00Z", "2026-11-30T08:00:00Z"}},
		// The last day of the month, the nearest weekday to the 1st, the second Tuesday, the last Friday.
		{"0 0 L * ? *", "2026-11-26T00:00:00Z", utc, []string{"2026-11-30T00:00:00Z", "2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z"}},
		{"0 0 1W * ? *", "2026-11-26T00:00:00Z", utc, []string{"2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z", "2027-05-03T00:00:00Z"}},
		{"0 0 ? * 3#2 *", "2026-11-26T00:00:00Z", utc, []string{"2026-12-08T00:00:00Z", "2027-01-12T00:00:00Z"}},
		{"0 0 ? * 6L *", "2026-11-26T00:00:00Z", utc, []string{"2026-11-27T00:00:00Z", "2026-12-25T00:00:00Z"}},
		{"0 12 1 JAN,JUL ? 2027-2028", "2026-11-26T00:00:00Z", utc, []string{"2027-01-01T12:00:00Z", "2027-07-01T12:00:00Z", "2028-01-01T12:00:00Z", "2028-07-01T12:00:00Z"}},
		{"0 12 1 1 ? 2025", "2026-11-26T00:00:00Z", utc, nil},
		// In a time zone: 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
		{"0 9 * * ? *", "2026-11-26T12:00:00Z", paris, []string{"2026-11-27T08:00:00Z"}},
		{"0 9 * * ? *", "2027-03-27T12:00:00Z", paris, []string{"2027-03-28T07:00:00Z"}},
	} {
		c, err := parseCron(tc.cron)
		if err != nil {
			t.Fatalf("cron(%s): %v", tc.cron, err)
		}
		from := at(tc.after)
		for i, w := range tc.want {
			got, ok := c.next(from, tc.loc)
			if !ok || !got.Equal(at(w)) {
				t.Fatalf("cron(%s) occurrence %d after %s: %v %v, want %s", tc.cron, i+1, tc.after, got.UTC(), ok, w)
			}
			from = got
		}
		if len(tc.want) == 0 {
			if got, ok := c.next(from, tc.loc); ok {
				t.Fatalf("cron(%s) after %s: %v, want none", tc.cron, tc.after, got)
			}
		}
	}
}

func TestScheduleExpr_parse(t *testing.T) {
	good := []string{
		"at(2026-12-01T08:00:00)", "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(2 hours)",
		"rate(1 day)", "rate(7 days)", "cron(0 9 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(15 10 ? * 6L 2026-2030)",
		"cron(0/5 8-17 ? * MON-FRI *)", "cron(0 0 LW * ? *)",
	}
	for _, s := range good {
		if _, err := parseSchedule(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := []string{
		"", "at(2026-12-01 08:00:00)", "at(2026-13-01T08:00:00)", "rate(1 minutes)", "rate(5 minute)",
		"rate(0 minutes)", "rate(-1 minutes)", "rate(5 weeks)", "rate(5)", "cron(0 9 * * *)",
		"cron(0 9 * * * *)", "cron(0 9 ? * ? *)", "cron(60 9 * * ? *)", "cron(0 24 * * ? *)",
		"cron(0 9 32 * ? *)", "cron(0 9 ? * 8 *)", "cron(0 9 * 13 ? *)", "cron(0 9 * * ? 1969)",
		"cron(0 9 ? * MON#6 *)", "cron(0 9 5-1 * ? *)", "cron(0 9 * ? * *)", "0 9 * * ? *", "every(5 minutes)",
	}
	for _, s := range bad {
		if _, err := parseSchedule(s); err == nil || err.Code != codeValidation {
			t.Errorf("%q: %v, want a ValidationException", s, err)
		}
	}
}
