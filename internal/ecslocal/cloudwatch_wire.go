package ecslocal

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CloudWatch speaks three protocols to its clients, all served here against the same state
// (botocore's service model lists them in its metadata: "protocols": ["smithy-rpc-v2-cbor",
// "json", "query"], with the awsQueryCompatible trait):
//
//   - Smithy RPC v2 CBOR, which aws-sdk-go-v2's service/cloudwatch speaks: POST
//     /service/GraniteServiceVersion20100801/operation/<Op> with the header smithy-protocol:
//     rpc-v2-cbor and CBOR bodies; timestamps are CBOR tag 1 over epoch seconds; an error is a map
//     with "__type" (the error shape's ID) and "message" ("Smithy RPC v2 CBOR protocol",
//     https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html).
//   - JSON 1.0, which botocore (the AWS CLI v1) picks first: POST / with X-Amz-Target:
//     GraniteServiceVersion20100801.<Op> and Content-Type application/x-amz-json-1.0;
//     timestamps are epoch seconds, errors {"__type", "message"}.
//   - awsQuery, the original CloudWatch protocol: form-encoded Action=<Op>&Version=2010-08-01,
//     XML answers in the http://monitoring.amazonaws.com/doc/2010-08-01/ namespace (the
//     "Making API Requests" page of the CloudWatch API reference, lists as param.member.n,
//     https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/making-api-requests.html).
//
// Because the service is awsQueryCompatible, the CBOR and JSON clients send x-amzn-query-mode:
// true and read an error's awsQuery code from the header x-amzn-query-error: "<Code>;Sender"
// (botocore parsers.py _do_query_compatible_error_parse, smithy-go rpcv2 deserializeError). The
// error codes ecslocal keeps internally (apiError.Code, the call log) are those awsQuery codes.

const (
	svcCloudWatch     = "cloudwatch"
	cwTargetPrefix    = "GraniteServiceVersion20100801."
	cwCBORPathPrefix  = "/service/GraniteServiceVersion20100801/operation/"
	cwVersion         = "2010-08-01"
	cwXMLNS           = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	cwShapeNamespace  = "com.amazonaws.cloudwatch#"
	cwJSONContentType = "application/x-amz-json-1.0"
)

// cwErrorShapes maps the awsQuery error codes of the CloudWatch model to the shapes whose IDs
// the CBOR and JSON protocols send in __type (the "error" traits of botocore's
// cloudwatch/2010-08-01/service-2.json).
var cwErrorShapes = map[string]string{
	"InvalidParameterValue":       "InvalidParameterValueException",
	"MissingParameter":            "MissingRequiredParameterException",
	"InvalidParameterCombination": "InvalidParameterCombinationException",
	"ResourceNotFound":            "ResourceNotFound",
	"InvalidNextToken":            "InvalidNextToken",
	"LimitExceeded":               "LimitExceededFault",
	"InvalidFormat":               "InvalidFormatFault",
	"InternalServiceError":        "InternalServiceFault",
}

// cwDecoder fills an operation's input structure from the request, whatever its protocol.
type cwDecoder func(v any) *apiError

// cwHandler is one CloudWatch operation. A nil output is an operation without output.
type cwHandler func(s *Server, rc *reqCtx, dec cwDecoder) (any, *apiError)

// cwTime is a CloudWatch timestamp: epoch seconds in JSON, CBOR tag 1 in CBOR, ISO 8601 in XML
// and in query requests.
type cwTime time.Time

func cwTS(t time.Time) *cwTime {
	if t.IsZero() {
		return nil
	}
	c := cwTime(t)
	return &c
}

// MarshalJSON implements json.Marshaler.
func (c cwTime) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(c).UnixMilli())/1000, 'f', 3, 64)), nil
}

// UnmarshalJSON implements json.Unmarshaler: epoch seconds, or an ISO 8601 string.
func (c *cwTime) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		*c = cwTime(time.UnixMilli(int64(math.Round(x * 1000))))
	case string:
		t, err := parseCWTime(x)
		if err != nil {
			return err
		}
		*c = cwTime(t)
	default:
		return fmt.Errorf("timestamp %s is not a number", b)
	}
	return nil
}

// MarshalCBOR implements cbor.Marshaler: tag 1 over float64 epoch seconds, as the rpcv2Cbor
// protocol requires.
func (c cwTime) MarshalCBOR() ([]byte, error) {
	return cbor.Marshal(cbor.Tag{Number: 1, Content: float64(time.Time(c).UnixMilli()) / 1000})
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (c *cwTime) UnmarshalCBOR(b []byte) error {
	var t time.Time
	if err := cbor.Unmarshal(b, &t); err != nil {
		return err
	}
	// Epoch seconds as a float64 carry milliseconds, the precision clients send.
	*c = cwTime(t.Round(time.Millisecond))
	return nil
}

func parseCWTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMilli(int64(math.Round(f * 1000))), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
}

// serveCloudWatch serves a CloudWatch request in the CBOR or JSON 1.0 protocol and tells whether
// the request was one.
func (s *Server) serveCloudWatch(w http.ResponseWriter, r *http.Request) bool {
	var op string
	var cborMode bool
	switch {
	case strings.HasPrefix(r.URL.Path, cwCBORPathPrefix):
		op, cborMode = strings.TrimPrefix(r.URL.Path, cwCBORPathPrefix), true
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), cwTargetPrefix):
		op = strings.TrimPrefix(r.Header.Get("X-Amz-Target"), cwTargetPrefix)
	default:
		return false
	}
	writeErr := func(e *apiError) { writeCWError(w, cborMode, e) }
	h := cwOps[op]
	if h == nil {
		writeErr(&apiError{Status: http.StatusNotFound, Code: "UnknownOperationException", Message: "Unknown operation " + op})
		return true
	}
	if r.Method != http.MethodPost {
		writeErr(&apiError{Status: http.StatusMethodNotAllowed, Code: codeSerialization, Message: "only POST is supported"})
		return true
	}
	body, err := readRequestBody(r)
	if err != nil {
		writeErr(errf(codeSerialization, "reading request body: %v", err))
		return true
	}
	var dec cwDecoder
	if cborMode {
		dec = func(v any) *apiError {
			if len(body) == 0 {
				return nil
			}
			if err := cbor.Unmarshal(body, v); err != nil {
				return errf(codeSerialization, "Unable to parse request body: %v", err)
			}
			return nil
		}
	} else {
		dec = func(v any) *apiError {
			if len(bytes.TrimSpace(body)) == 0 {
				return nil
			}
			return decode(body, v)
		}
	}
	out, aerr := s.runCloudWatch(r, op, h, dec)
	if aerr != nil {
		writeErr(aerr)
		return true
	}
	writeCWResult(w, cborMode, out)
	return true
}

// readRequestBody reads a request's body, gunzipping it when the client compressed it: the SDKs
// gzip PutMetricData's request, which carries the requestCompression trait ("Compressing
// requests", https://smithy.io/2.0/spec/behavior-traits.html#requestcompression-trait).
func readRequestBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	}
	return io.ReadAll(io.LimitReader(rd, 10<<20))
}

// serveCloudWatchQuery serves a CloudWatch request in the awsQuery protocol.
func (s *Server) serveCloudWatchQuery(w http.ResponseWriter, r *http.Request, q form) {
	op := q.str("Action")
	h := cwOps[op]
	if h == nil {
		writeCWQueryError(w, &apiError{Status: http.StatusBadRequest, Code: "InvalidAction", Message: "The action " + op + " is not valid for this web service."})
		return
	}
	dec := func(v any) *apiError { return formDecode(q, reflect.ValueOf(v).Elem()) }
	out, aerr := s.runCloudWatch(r, op, h, dec)
	if aerr != nil {
		writeCWQueryError(w, aerr)
		return
	}
	writeCWQueryResult(w, op, out)
}

// runCloudWatch runs one CloudWatch operation under the lock: it advances the world, applies
// the IAM gate, throttling and injected faults as for the other services, and logs the call.
func (s *Server) runCloudWatch(r *http.Request, op string, h cwHandler, dec cwDecoder) (any, *apiError) {
	var res struct {
		AlarmName  string
		AlarmNames []string
		Namespace  string
	}
	_ = dec(&res)
	resource := res.AlarmName
	if resource == "" {
		resource = strings.Join(res.AlarmNames, ",")
	}
	if resource == "" {
		resource = res.Namespace
	}

	return s.dispatch(r, svcCloudWatch, op, resource, func() []string { return nil }, true,
		func(rc *reqCtx) (any, *apiError) { return h(s, rc, dec) })
}

func writeCWResult(w http.ResponseWriter, cborMode bool, out any) {
	var body []byte
	var err error
	switch {
	case out == nil:
		// An operation without output answers with an empty body.
	case cborMode:
		body, err = cbor.Marshal(out)
	default:
		body, err = json.Marshal(out)
	}
	if err != nil {
		writeCWError(w, cborMode, &apiError{Status: http.StatusInternalServerError, Code: "InternalServiceError", Message: err.Error()})
		return
	}
	if cborMode {
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
	} else {
		w.Header().Set("Content-Type", cwJSONContentType)
	}
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func cwFault(e *apiError) string {
	if e.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

func writeCWError(w http.ResponseWriter, cborMode bool, e *apiError) {
	typ := e.Code
	if shape, ok := cwErrorShapes[e.Code]; ok {
		typ = cwShapeNamespace + shape
	}
	m := map[string]string{"__type": typ, "message": e.Message}
	var body []byte
	if cborMode {
		body, _ = cbor.Marshal(m)
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
	} else {
		body, _ = json.Marshal(m)
		w.Header().Set("Content-Type", cwJSONContentType)
		w.Header().Set("X-Amzn-ErrorType", typ)
	}
	w.Header().Set("X-Amzn-Query-Error", e.Code+";"+cwFault(e))
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

func writeCWQueryResult(w http.ResponseWriter, op string, out any) {
	id := newRequestID()
	var buf bytes.Buffer
	buf.WriteString(`<` + op + `Response xmlns="` + cwXMLNS + `">`)
	if out != nil {
		buf.WriteString(`<` + op + `Result>`)
		xmlMembers(&buf, reflect.ValueOf(out))
		buf.WriteString(`</` + op + `Result>`)
	}
	buf.WriteString(`<ResponseMetadata><RequestId>` + id + `</RequestId></ResponseMetadata></` + op + `Response>`)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", id)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func writeCWQueryError(w http.ResponseWriter, e *apiError) {
	id := newRequestID()
	var msg bytes.Buffer
	_ = xml.EscapeText(&msg, []byte(e.Message))
	body := `<ErrorResponse xmlns="` + cwXMLNS + `"><Error><Type>` + cwFault(e) + `</Type><Code>` + e.Code +
		`</Code><Message>` + msg.String() + `</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>`
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", id)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(body))
}

// jsonName is a struct field's member name and whether it is omitted when empty.
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(opts, "omitempty")
}

var cwTimeType = reflect.TypeOf(cwTime{})

// xmlMembers writes the members of a structure the way the awsQuery protocol does: each member
// an element of its name, a list's items as <member> elements.
func xmlMembers(buf *bytes.Buffer, v reflect.Value) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	t := v.Type()
	for i := range t.NumField() {
		name, omit := jsonName(t.Field(i))
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if omit && fv.IsZero() {
			continue
		}
		if fv.Kind() == reflect.Pointer && fv.IsNil() {
			continue
		}
		buf.WriteString("<" + name + ">")
		xmlValue(buf, fv)
		buf.WriteString("</" + name + ">")
	}
}

func xmlValue(buf *bytes.Buffer, v reflect.Value) {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Type() == cwTimeType {
		c, _ := v.Interface().(cwTime)
		buf.WriteString(isoTime(time.Time(c)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		xmlMembers(buf, v)
	case reflect.Slice:
		for i := range v.Len() {
			buf.WriteString("<member>")
			xmlValue(buf, v.Index(i))
			buf.WriteString("</member>")
		}
	case reflect.String:
		_ = xml.EscapeText(buf, []byte(v.String()))
	case reflect.Bool:
		buf.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int32, reflect.Int64:
		buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Float64:
		buf.WriteString(strconv.FormatFloat(v.Float(), 'f', -1, 64))
	}
}

// formDecode fills the structure v from an awsQuery form: member Name is the key Name, a
// structure's members are Name.Member, and a list's items are Name.member.N.
func formDecode(f form, v reflect.Value) *apiError {
	t := v.Type()
	for i := range t.NumField() {
		name, _ := jsonName(t.Field(i))
		if err := formField(f, name, v.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

func formField(f form, key string, fv reflect.Value) *apiError {
	ft := fv.Type()
	switch {
	case ft == cwTimeType || ft.Kind() == reflect.Pointer && ft.Elem() == cwTimeType:
		if !f.has(key) {
			return nil
		}
		tm, err := parseCWTime(f.str(key))
		if err != nil {
			return cwInvalidValue(key, f.str(key))
		}
		c := cwTime(tm)
		if ft.Kind() == reflect.Pointer {
			fv.Set(reflect.ValueOf(&c))
		} else {
			fv.Set(reflect.ValueOf(c))
		}
		return nil
	case ft.Kind() == reflect.Slice:
		et := ft.Elem()
		if et.Kind() == reflect.Struct {
			subs := f.structs(key)
			if len(subs) == 0 {
				return nil
			}
			out := reflect.MakeSlice(ft, len(subs), len(subs))
			for i, sub := range subs {
				if err := formDecode(sub, out.Index(i)); err != nil {
					return err
				}
			}
			fv.Set(out)
			return nil
		}
		items := f.list(key)
		if len(items) == 0 {
			return nil
		}
		out := reflect.MakeSlice(ft, len(items), len(items))
		for i, s := range items {
			if err := formScalar(key, s, out.Index(i)); err != nil {
				return err
			}
		}
		fv.Set(out)
		return nil
	case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
		sub := f.sub(key)
		if len(sub) == 0 {
			return nil
		}
		p := reflect.New(ft.Elem())
		if err := formDecode(sub, p.Elem()); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	case ft.Kind() == reflect.Struct:
		return formDecode(f.sub(key), fv)
	}
	if !f.has(key) {
		return nil
	}
	if ft.Kind() == reflect.Pointer {
		p := reflect.New(ft.Elem())
		if err := formScalar(key, f.str(key), p.Elem()); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	}
	return formScalar(key, f.str(key), fv)
}

func formScalar(key, s string, v reflect.Value) *apiError {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return cwInvalidValue(key, s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return cwInvalidValue(key, s)
		}
		v.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return cwInvalidValue(key, s)
		}
		v.SetFloat(n)
	}
	return nil
}
