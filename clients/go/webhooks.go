package verk

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// WebhookVerificationError: the request is not a delivery from Verk signed with your
// secret. Code is MISSING_SIGNATURE, INVALID_SIGNATURE, TIMESTAMP_OUT_OF_TOLERANCE,
// INVALID_TIMESTAMP or INVALID_PAYLOAD.
type WebhookVerificationError struct {
	Code    string
	Message string
}

func (e *WebhookVerificationError) Error() string {
	return "verk: webhook " + e.Code + ": " + e.Message
}

// WebhookEvent is a verified delivery: the fields every event has, and the typed event
// for its family (exactly one of Task, Project, Member, Comment is set for the events the
// API documents; Raw is the body as received).
type WebhookEvent struct {
	ID         string
	Event      string
	Timestamp  time.Time
	WebhookID  string
	DeliveryID string
	Task       *TaskEvent
	Project    *ProjectEvent
	Member     *MemberEvent
	Comment    *CommentEvent
	Raw        json.RawMessage
}

// WebhookVerifier checks deliveries against one or more secrets (several while you roll a
// rotation out). Tolerance defaults to 5 minutes; Now to time.Now.
type WebhookVerifier struct {
	Secrets   []string
	Tolerance time.Duration
	Now       func() time.Time
}

// VerifyWebhook checks that a request is a delivery from Verk signed with secret and
// returns its event. Pass the raw body exactly as read, before any JSON decoding:
//
//	body, _ := io.ReadAll(r.Body)
//	event, err := verk.VerifyWebhook(body, r.Header, os.Getenv("VERK_WEBHOOK_SECRET"))
//
// With the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature,
// which every delivery carries) the timestamp must be within the tolerance and one of the
// space-separated v1 signatures must match (after a rotation there are two, so either
// secret verifies); without them X-Verk-Signature (sha256=<hex>) must match. Every
// comparison is constant-time. The error is a *WebhookVerificationError.
func VerifyWebhook(rawBody []byte, headers http.Header, secret string) (*WebhookEvent, error) {
	return WebhookVerifier{Secrets: []string{secret}}.Verify(rawBody, headers)
}

var (
	standardSecret = regexp.MustCompile(`^whsec_((?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$`)
	unixSeconds    = regexp.MustCompile(`^\d{1,12}$`)
)

func refuse(code, message string) error {
	return &WebhookVerificationError{Code: code, Message: message}
}

// Verify is VerifyWebhook with the verifier's secrets, tolerance and clock.
func (v WebhookVerifier) Verify(rawBody []byte, headers http.Header) (*WebhookEvent, error) {
	if len(v.Secrets) == 0 {
		return nil, refuse("MISSING_SIGNATURE", "no webhook secret to verify with")
	}
	for _, s := range v.Secrets {
		if s == "" {
			return nil, refuse("MISSING_SIGNATURE", "no webhook secret to verify with")
		}
	}
	id, timestamp, standard := headers.Get("Webhook-Id"), headers.Get("Webhook-Timestamp"), headers.Get("Webhook-Signature")
	verk := headers.Get("X-Verk-Signature")
	switch {
	case id != "" && timestamp != "" && standard != "":
		if err := checkTimestamp(timestamp, v.Now, v.Tolerance); err != nil {
			return nil, err
		}
		var given []string
		for _, s := range strings.Split(standard, " ") {
			if strings.HasPrefix(s, "v1,") {
				given = append(given, s)
			}
		}
		signed := append([]byte(id+"."+timestamp+"."), rawBody...)
		expected := make([]string, len(v.Secrets))
		for i, s := range v.Secrets {
			expected[i] = "v1," + base64.StdEncoding.EncodeToString(mac(standardKey(s), signed))
		}
		if !anyMatch(given, expected) {
			return nil, refuse("INVALID_SIGNATURE", "no webhook-signature matches the secret")
		}
	case verk != "":
		expected := make([]string, len(v.Secrets))
		for i, s := range v.Secrets {
			expected[i] = "sha256=" + hex.EncodeToString(mac([]byte(s), rawBody))
		}
		if !anyMatch([]string{strings.TrimSpace(verk)}, expected) {
			return nil, refuse("INVALID_SIGNATURE", "X-Verk-Signature does not match the secret")
		}
	default:
		return nil, refuse("MISSING_SIGNATURE", "neither webhook-signature nor X-Verk-Signature is present")
	}
	return decodeEvent(rawBody)
}

// checkTimestamp refuses a webhook-timestamp that is not unix seconds within tolerance
// (5 minutes when zero) of now (time.Now when nil).
func checkTimestamp(timestamp string, now func() time.Time, tolerance time.Duration) error {
	if !unixSeconds.MatchString(timestamp) {
		return refuse("INVALID_TIMESTAMP", "webhook-timestamp is not unix seconds")
	}
	seconds, _ := strconv.ParseInt(timestamp, 10, 64)
	if now == nil {
		now = time.Now
	}
	if tolerance == 0 {
		tolerance = 5 * time.Minute
	}
	skew := math.Abs(float64(now().UnixMilli())/1000 - float64(seconds))
	if skew > tolerance.Seconds() {
		return refuse("TIMESTAMP_OUT_OF_TOLERANCE", "webhook-timestamp is too old or too new")
	}
	return nil
}

func decodeEvent(rawBody []byte) (*WebhookEvent, error) {
	var common struct {
		ID         string    `json:"id"`
		Event      string    `json:"event"`
		Timestamp  time.Time `json:"timestamp"`
		WebhookID  string    `json:"webhookId"`
		DeliveryID string    `json:"deliveryId"`
	}
	if err := json.Unmarshal(rawBody, &common); err != nil {
		return nil, refuse("INVALID_PAYLOAD", "the body is not a JSON event: "+err.Error())
	}
	event := &WebhookEvent{
		ID: common.ID, Event: common.Event, Timestamp: common.Timestamp,
		WebhookID: common.WebhookID, DeliveryID: common.DeliveryID, Raw: json.RawMessage(rawBody),
	}
	family, _, _ := strings.Cut(common.Event, ".")
	var err error
	switch family {
	case "task":
		event.Task = &TaskEvent{}
		err = json.Unmarshal(rawBody, event.Task)
	case "project":
		event.Project = &ProjectEvent{}
		err = json.Unmarshal(rawBody, event.Project)
	case "member":
		event.Member = &MemberEvent{}
		err = json.Unmarshal(rawBody, event.Member)
	case "comment":
		event.Comment = &CommentEvent{}
		err = json.Unmarshal(rawBody, event.Comment)
	}
	if err != nil {
		return nil, refuse("INVALID_PAYLOAD", "the body is not a "+family+" event: "+err.Error())
	}
	return event, nil
}

// standardKey: a whsec_<base64> secret keys with its decoded bytes, any other with its own.
func standardKey(secret string) []byte {
	if m := standardSecret.FindStringSubmatch(secret); m != nil {
		if key, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			return key
		}
	}
	return []byte(secret)
}

func mac(key, message []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(message)
	return h.Sum(nil)
}

// anyMatch compares every given signature with every expected one, each in constant time.
func anyMatch(given, expected []string) bool {
	found := 0
	for _, g := range given {
		for _, e := range expected {
			found |= subtle.ConstantTimeCompare([]byte(g), []byte(e))
		}
	}
	return found == 1
}
