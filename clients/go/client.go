// Package verk is the Go client of the Verk API: every resource, retries with the same
// Idempotency-Key, iteration by cursor, typed errors and webhook verification. Standard
// library only.
//
//	client := verk.NewClient(os.Getenv("VERK_API_KEY"))
//	task, err := client.Tasks.Create(&verk.TaskCreate{Title: "New task", ProjectID: "proj_123"})
package verk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"
)

// Version is sent in the User-Agent.
const Version = "0.1.0"

// DefaultBaseURL is where `npm run dev` serves the API.
const DefaultBaseURL = "http://127.0.0.1:8787"

// Client calls the Verk API. Its methods are safe for concurrent use.
type Client struct {
	ctx           context.Context
	apiKey        string
	baseURL       string
	httpClient    *http.Client
	maxRetries    int
	maxRetryDelay time.Duration
	backoff       time.Duration
	sleep         func(time.Duration)
	newKey        func() string

	Tasks    *TasksService
	Projects *ProjectsService
	Comments *CommentsService
	// Attachments: files on tasks.
	Attachments *AttachmentsService
	Users       *UsersService
	// Members is Users: the organization's members.
	Members          *UsersService
	APIKeys          *APIKeysService
	Webhooks         *WebhooksService
	Events           *EventsService
	IncomingWebhooks *IncomingWebhooksService
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets where the API is (default VERK_BASE_URL, else DefaultBaseURL); a trailing /v1 is accepted.
func WithBaseURL(u string) Option { return func(c *Client) { c.baseURL = u } }

// WithHTTPClient replaces the http.Client (its Timeout is the timeout of each attempt).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.httpClient = h } }

// WithTimeout sets the timeout of each attempt (default 30 s).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		h := *c.httpClient
		h.Timeout = d
		c.httpClient = &h
	}
}

// WithRetries sets how many times a request is retried (default 3), the longest
// Retry-After the client waits for (default 60 s; a longer one returns the 429) and the
// first backoff when the answer names no wait (default 500 ms, doubled on every retry).
func WithRetries(max int, maxDelay, backoff time.Duration) Option {
	return func(c *Client) { c.maxRetries, c.maxRetryDelay, c.backoff = max, maxDelay, backoff }
}

// WithSleep replaces the wait between attempts (tests record it instead); by default the
// wait ends early when the client's context is done.
func WithSleep(sleep func(time.Duration)) Option { return func(c *Client) { c.sleep = sleep } }

// WithIdempotencyKeys replaces how each POST's Idempotency-Key is made (default: a random UUID).
func WithIdempotencyKeys(newKey func() string) Option { return func(c *Client) { c.newKey = newKey } }

// NewClient returns a client for the API key (VERK_API_KEY when empty). Requests with
// no key are answered 401 by the API.
func NewClient(apiKey string, opts ...Option) *Client {
	if apiKey == "" {
		apiKey = os.Getenv("VERK_API_KEY")
	}
	c := &Client{
		ctx:           context.Background(),
		apiKey:        apiKey,
		baseURL:       os.Getenv("VERK_BASE_URL"),
		httpClient:    &http.Client{Timeout: 30 * time.Second},
		maxRetries:    3,
		maxRetryDelay: 60 * time.Second,
		backoff:       500 * time.Millisecond,
		newKey:        randomUUID,
	}
	for _, opt := range opts {
		opt(c)
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	c.baseURL = strings.TrimSuffix(strings.TrimRight(c.baseURL, "/"), "/v1")
	c.wire()
	return c
}

// WithContext returns a copy of the client whose calls (and waits between retries) end
// when ctx is done:
//
//	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	task, err := client.WithContext(ctx).Tasks.Get("task_789")
func (c *Client) WithContext(ctx context.Context) *Client {
	cp := *c
	cp.ctx = ctx
	cp.wire()
	return &cp
}

func (c *Client) wire() {
	c.Tasks = &TasksService{c}
	c.Projects = &ProjectsService{c}
	c.Comments = &CommentsService{c}
	c.Attachments = &AttachmentsService{c}
	c.Users = &UsersService{c}
	c.Members = c.Users
	c.APIKeys = &APIKeysService{c}
	c.Webhooks = &WebhooksService{c, &DeliveriesService{c}}
	c.Events = &EventsService{c}
	c.IncomingWebhooks = &IncomingWebhooksService{c}
}

// wait sleeps between attempts; an error when the context ended first.
func (c *Client) wait(d time.Duration) error {
	if c.sleep != nil {
		c.sleep(d)
		return c.ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
}

// do sends one call: a fresh Idempotency-Key on every POST (the same on its retries, so a
// retried create never creates twice), retries on 429 (as long as Retry-After says), on
// 5xx and network errors when repeating is safe (GET, and POST under its key), never on
// other 4xx. out receives the JSON answer; any non-2xx answer is an *Error.
func (c *Client) do(method, path string, query url.Values, body any, out any) error {
	target := c.baseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var payload []byte
	if isNil(body) {
		body = nil
	}
	if body != nil || method == http.MethodPost {
		if body == nil {
			body = struct{}{}
		}
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("verk: encoding the %s %s body: %w", method, path, err)
		}
	}
	idempotencyKey := ""
	if method == http.MethodPost {
		idempotencyKey = c.newKey()
	}
	repeatable := method == http.MethodGet || idempotencyKey != ""

	for retry := 0; ; retry++ {
		backoff := c.backoff << retry
		req, err := http.NewRequestWithContext(c.ctx, method, target, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("verk: %w", err)
		}
		if payload == nil {
			req.Body = nil
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "verk-go/"+Version)
		if idempotencyKey != "" {
			req.Header.Set("Idempotency-Key", idempotencyKey)
		}
		resp, err := c.httpClient.Do(req)
		if err != nil {
			if !repeatable || retry >= c.maxRetries || c.ctx.Err() != nil {
				return &ConnectionError{Method: method, Path: path, Err: err}
			}
			if err := c.wait(minDuration(backoff, c.maxRetryDelay)); err != nil {
				return &ConnectionError{Method: method, Path: path, Err: err}
			}
			continue
		}
		raw, readErr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if readErr != nil {
			if !repeatable || retry >= c.maxRetries || c.ctx.Err() != nil {
				return &ConnectionError{Method: method, Path: path, Err: readErr}
			}
			if err := c.wait(minDuration(backoff, c.maxRetryDelay)); err != nil {
				return &ConnectionError{Method: method, Path: path, Err: err}
			}
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out == nil || len(raw) == 0 {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("verk: decoding the %s %s answer: %w", method, path, err)
			}
			return nil
		}
		if retry < c.maxRetries && retryable(resp, idempotencyKey != "", repeatable) {
			delay, named := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if !named {
				delay = backoff
			}
			if delay <= c.maxRetryDelay {
				if err := c.wait(delay); err != nil {
					return &ConnectionError{Method: method, Path: path, Err: err}
				}
				continue
			}
		}
		return errorFromResponse(resp, raw)
	}
}

func retryable(resp *http.Response, hasKey, repeatable bool) bool {
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return true // refused before it ran
	case resp.StatusCode == http.StatusConflict:
		// The same Idempotency-Key's first request is still running.
		return hasKey && resp.Header.Get("Retry-After") != ""
	default:
		return resp.StatusCode >= 500 && repeatable
	}
}

// isNil: no body at all, or a nil *TaskUpdate and the like (sent as {} on a POST, not as null).
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}

func randomUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func escape(id string) string { return url.PathEscape(id) }

var errEmptyID = errors.New("verk: an id is required")

func checkIDs(ids ...string) error {
	for _, id := range ids {
		if id == "" {
			return errEmptyID
		}
	}
	return nil
}
