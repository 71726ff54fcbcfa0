package verk

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"
)

type sharedVectors struct {
	Body  string `json:"body"`
	Cases []struct {
		Name             string            `json:"name"`
		Body             *string           `json:"body"`
		Headers          map[string]string `json:"headers"`
		Secrets          []string          `json:"secrets"`
		NowMs            *int64            `json:"nowMs"`
		ToleranceSeconds *int              `json:"toleranceSeconds"`
		Expect           struct {
			OK *struct {
				ID        string `json:"id"`
				Event     string `json:"event"`
				DataTitle string `json:"dataTitle"`
			} `json:"ok"`
			Error string `json:"error"`
		} `json:"expect"`
	} `json:"cases"`
}

// The same cases the TypeScript SDK and the Python client run (clients/vectors/webhooks.json).
func TestVerifyWebhookSharedVectors(t *testing.T) {
	raw, err := os.ReadFile("../vectors/webhooks.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors sharedVectors
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors.Cases) < 15 {
		t.Fatalf("only %d cases", len(vectors.Cases))
	}
	for _, c := range vectors.Cases {
		c := c
		t.Run(c.Name, func(t *testing.T) {
			body := vectors.Body
			if c.Body != nil {
				body = *c.Body
			}
			headers := http.Header{}
			for k, v := range c.Headers {
				headers.Set(k, v)
			}
			verifier := WebhookVerifier{Secrets: c.Secrets}
			if c.NowMs != nil {
				now := time.UnixMilli(*c.NowMs)
				verifier.Now = func() time.Time { return now }
			}
			if c.ToleranceSeconds != nil {
				verifier.Tolerance = time.Duration(*c.ToleranceSeconds) * time.Second
			}
			event, err := verifier.Verify([]byte(body), headers)
			if c.Expect.OK != nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if event.ID != c.Expect.OK.ID || event.Event != c.Expect.OK.Event {
					t.Fatalf("event %s %s", event.ID, event.Event)
				}
				if event.Task == nil || event.Task.Data.Title != c.Expect.OK.DataTitle {
					t.Fatalf("typed task event: %+v", event.Task)
				}
				return
			}
			var refusal *WebhookVerificationError
			if !errors.As(err, &refusal) || refusal.Code != c.Expect.Error {
				t.Fatalf("want %s, got %v", c.Expect.Error, err)
			}
		})
	}
}

func TestVerifyWebhookTypedFieldsAndTheRealClock(t *testing.T) {
	raw, _ := os.ReadFile("../vectors/webhooks.json")
	var vectors sharedVectors
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	first := vectors.Cases[0]
	headers := http.Header{}
	for k, v := range first.Headers {
		headers.Set(k, v)
	}
	// Signed on 2026-01-01: outside the tolerance of today's clock.
	_, err := VerifyWebhook([]byte(vectors.Body), headers, first.Secrets[0])
	var refusal *WebhookVerificationError
	if !errors.As(err, &refusal) || refusal.Code != "TIMESTAMP_OUT_OF_TOLERANCE" {
		t.Fatalf("want TIMESTAMP_OUT_OF_TOLERANCE, got %v", err)
	}
	now := time.UnixMilli(*first.NowMs)
	event, err := WebhookVerifier{Secrets: first.Secrets, Now: func() time.Time { return now }}.Verify([]byte(vectors.Body), headers)
	if err != nil {
		t.Fatal(err)
	}
	if !event.Timestamp.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || event.DeliveryID != "del_vector0000000000001" {
		t.Fatalf("%+v", event)
	}
	if event.Task.Actor.UserID == nil || *event.Task.Actor.UserID != "user_vector000000000001" || event.Task.Actor.APIKeyID != nil {
		t.Fatalf("actor %+v", event.Task.Actor)
	}
}
