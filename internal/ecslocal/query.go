package ecslocal

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Elastic Load Balancing v2 speaks the AWS query protocol (awsQuery) to every client: POST / with
// a form-encoded body "Action=<Op>&Version=2015-12-01&..." (lists as Name.member.N, structures as
// Name.Member), answered with XML: <OpResponse xmlns=...><OpResult>...</OpResult>
// <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata></OpResponse>, and errors as
// <ErrorResponse><Error><Type>Sender</Type><Code>...</Code><Message>...</Message></Error>
// <RequestId>...</RequestId></ErrorResponse> (the "Query requests" and "Common errors" pages of
// the Elastic Load Balancing API reference,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html).

const (
	svcELB     = "elasticloadbalancing"
	elbVersion = "2015-12-01"
	elbXMLNS   = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// queryHandler is one awsQuery operation.
type queryHandler func(s *Server, rc *reqCtx, q form) (any, *apiError)

// isQueryRequest tells an awsQuery request from the JSON ones: it has no X-Amz-Target and a
// form-encoded body (or, for GET, an Action in the query string).
func isQueryRequest(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return r.URL.Query().Get("Action") != ""
	}
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded")
}

// serveQuery serves an awsQuery request: the Elastic Load Balancing v2 operations, and
// CloudWatch's (serveCloudWatchQuery).
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request) {
	var values url.Values
	if r.Method == http.MethodGet {
		values = r.URL.Query()
	} else {
		body, err := readRequestBody(r)
		if err == nil {
			values, err = url.ParseQuery(string(body))
		}
		if err != nil {
			writeQueryError(w, &apiError{Status: http.StatusBadRequest, Code: "MalformedQueryString", Message: "The query string is malformed."})
			return
		}
	}
	q := form(values)
	op := q.str("Action")
	// Each awsQuery service is told by its API version: Elastic Load Balancing v2 is 2015-12-01,
	// CloudWatch 2010-08-01.
	if op != "" && q.str("Version") == cwVersion {
		s.serveCloudWatchQuery(w, r, q)
		return
	}
	h := elbOps[op]
	switch {
	case op == "":
		writeQueryError(w, &apiError{Status: http.StatusBadRequest, Code: "MissingAction", Message: "The request is missing an action or a required parameter."})
		return
	case q.str("Version") != elbVersion || h == nil:
		writeQueryError(w, &apiError{Status: http.StatusBadRequest, Code: "InvalidAction", Message: "The action " + op + " is not valid for this web service."})
		return
	}

	out, aerr := s.dispatch(r, svcELB, op, q.resource(), func() []string { return impliedQueryActions(op, q) }, true,
		func(rc *reqCtx) (any, *apiError) { return h(s, rc, q) })
	if aerr != nil {
		writeQueryError(w, aerr)
	} else {
		writeQueryResult(w, op, out)
	}
}

func writeQueryResult(w http.ResponseWriter, op string, result any) {
	id := newRequestID()
	var buf bytes.Buffer
	buf.WriteString(`<` + op + `Response xmlns="` + elbXMLNS + `">`)
	if result == nil {
		result = struct{}{}
	}
	enc := xml.NewEncoder(&buf)
	if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}}); err != nil {
		writeQueryError(w, &apiError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()})
		return
	}
	_ = enc.Flush()
	buf.WriteString(`<ResponseMetadata><RequestId>` + id + `</RequestId></ResponseMetadata></` + op + `Response>`)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", id)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func writeQueryError(w http.ResponseWriter, e *apiError) {
	id := newRequestID()
	kind := "Sender"
	if e.Status >= 500 {
		kind = "Receiver"
	}
	var msg bytes.Buffer
	_ = xml.EscapeText(&msg, []byte(e.Message))
	body := `<ErrorResponse xmlns="` + elbXMLNS + `"><Error><Type>` + kind + `</Type><Code>` + e.Code +
		`</Code><Message>` + msg.String() + `</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>`
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", id)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(body))
}

// form is a decoded awsQuery request.
type form url.Values

func (f form) str(k string) string {
	if v := f[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (f form) has(k string) bool { _, ok := f[k]; return ok }

// intp reads an optional integer member; a value that is not one is a ValidationError.
func (f form) intp(k string) (*int, *apiError) {
	if !f.has(k) {
		return nil, nil
	}
	n, err := strconv.Atoi(f.str(k))
	if err != nil {
		return nil, elbErr(codeValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", f.str(k), lowerFirst(k))
	}
	return &n, nil
}

// boolp reads an optional boolean member.
func (f form) boolp(k string) (*bool, *apiError) {
	if !f.has(k) {
		return nil, nil
	}
	switch strings.ToLower(f.str(k)) {
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	}
	return nil, elbErr(codeValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", f.str(k), lowerFirst(k))
}

var memberKey = regexp.MustCompile(`^\.member\.(\d+)(\..+)?$`)

// list reads the list prefix.member.N of strings, in the order of N.
func (f form) list(prefix string) []string {
	var idx []int
	vals := map[int]string{}
	for k := range f {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if m := memberKey.FindStringSubmatch(rest); m != nil && m[2] == "" {
			n, _ := strconv.Atoi(m[1])
			idx = append(idx, n)
			vals[n] = f.str(k)
		}
	}
	sort.Ints(idx)
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		out = append(out, vals[n])
	}
	return out
}

// structs reads the list prefix.member.N of structures, each as the form of its members.
func (f form) structs(prefix string) []form {
	subs := map[int]form{}
	for k, v := range f {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if m := memberKey.FindStringSubmatch(rest); m != nil && m[2] != "" {
			n, _ := strconv.Atoi(m[1])
			if subs[n] == nil {
				subs[n] = form{}
			}
			subs[n][m[2][1:]] = v
		}
	}
	idx := make([]int, 0, len(subs))
	for n := range subs {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]form, 0, len(idx))
	for _, n := range idx {
		out = append(out, subs[n])
	}
	return out
}

// sub reads the structure prefix.*.
func (f form) sub(prefix string) form {
	out := form{}
	for k, v := range f {
		if rest, ok := strings.CutPrefix(k, prefix+"."); ok {
			out[rest] = v
		}
	}
	return out
}

// resource names what a call is about, for the call log.
func (f form) resource() string {
	for _, k := range []string{"TargetGroupArn", "ListenerArn", "RuleArn", "LoadBalancerArn", "Name"} {
		if v := f.str(k); v != "" {
			return v
		}
	}
	for _, k := range []string{"TargetGroupArns", "LoadBalancerArns", "ListenerArns", "RuleArns", "Names", "ResourceArns"} {
		if v := f.list(k); len(v) > 0 {
			return strings.Join(v, ",")
		}
	}
	return ""
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// isoTime is a timestamp as the query protocol sends it: ISO 8601 in UTC.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
