package verk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is any answer other than 2xx, as the API describes it:
// {"error": {"code", "message", "field"?, "requestId"}}. Code is UNKNOWN_ERROR only when
// the body was not the API's (a proxy's page, say). Use errors.As to read it.
type APIError struct {
	Status    int
	Code      string
	Message   string
	Field     string
	RequestID string
	// RetryAfter is the wait the API asked for (Retry-After), on 429 and on an Idempotency-Key still in progress.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	field := ""
	if e.Field != "" {
		field = " (field " + e.Field + ")"
	}
	return fmt.Sprintf("verk: %d %s: %s%s [request %s]", e.Status, e.Code, e.Message, field, e.RequestID)
}

// ConnectionError is a request that got no answer (refused, reset, DNS, timeout) after the retries.
type ConnectionError struct {
	Method, Path string
	Err          error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("verk: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *ConnectionError) Unwrap() error { return e.Err }

func errorFromResponse(resp *http.Response, raw []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, Code: "UNKNOWN_ERROR", Message: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	var body Error
	if json.Unmarshal(raw, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Field, e.RequestID = body.Error.Code, body.Error.Message, body.Error.Field, body.Error.RequestID
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Request-Id")
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	return e
}

// parseRetryAfter reads delta-seconds or an HTTP date (RFC 9110 section 10.2.3).
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.ParseUint(value, 10, 32); err == nil {
		return time.Duration(seconds) * time.Second, true
	}
	if when, err := http.ParseTime(value); err == nil {
		if d := when.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}
