package ecslocal

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// apiError is an AWS JSON-protocol error: an HTTP status, an error code that goes into both the
// `__type` body member and the X-Amzn-ErrorType header, and a message.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(code, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// The ECS error codes ecslocal returns, as named in the ECS API reference
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html and the Errors of
// each action). The Application Auto Scaling codes are named in its API reference
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/CommonErrors.html and each action's Errors).
const (
	codeClientException        = "ClientException"
	codeInvalidParameter       = "InvalidParameterException"
	codeClusterNotFound        = "ClusterNotFoundException"
	codeServiceNotFound        = "ServiceNotFoundException"
	codeServiceNotActive       = "ServiceNotActiveException"
	codeResourceNotFound       = "ResourceNotFoundException"
	codeAccessDenied           = "AccessDeniedException"
	codeThrottling             = "ThrottlingException"
	codeUnknownOperation       = "UnknownOperationException"
	codeSerialization          = "SerializationException"
	codeValidation             = "ValidationException"
	codeObjectNotFound         = "ObjectNotFoundException"
	codeInvalidNextToken       = "InvalidNextTokenException"
	codeServerException        = "ServerException"
	codeInternalService        = "InternalServiceException"
	codeLimitExceeded          = "LimitExceededException"
	codeClusterContainsService = "ClusterContainsServicesException"
)

// writeJSON writes a successful JSON 1.1 response.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, "ecs", &apiError{Status: 500, Code: codeServerException, Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeError writes an AWS JSON error. ECS spells the message member `message`; Application
// Auto Scaling spells it `Message`.
func writeError(w http.ResponseWriter, service string, e *apiError) {
	msgKey := "message"
	if service == svcAutoScaling {
		msgKey = "Message"
	}
	body, _ := json.Marshal(map[string]string{"__type": e.Code, msgKey: e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// epoch is a timestamp that marshals as epoch seconds with millisecond precision, the way the
// AWS JSON protocols send timestamps. The zero value marshals as null and is omitted by callers
// through pointers.
type epoch time.Time

// MarshalJSON implements json.Marshaler.
func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	if t.IsZero() {
		return []byte("null"), nil
	}
	secs := float64(t.UnixMilli()) / 1000
	return []byte(strconv.FormatFloat(secs, 'f', 3, 64)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *epoch) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	sec, frac := math.Modf(f)
	*e = epoch(time.Unix(int64(sec), int64(frac*1e9)))
	return nil
}

func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}
