package verk

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

func call[T any](c *Client, method, path string, query url.Values, body any) (*T, error) {
	var out T
	if err := c.do(method, path, query, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// walk pages a list by cursor: the first request as given, then the same filters with
// each answer's nextCursor (and no page).
func walk[T any, P any](list func(cursor string) (*P, error), data func(*P) ([]T, *string)) *Iter[T] {
	return newIter(func(cursor string) ([]T, *string, error) {
		p, err := list(cursor)
		if err != nil {
			return nil, nil, err
		}
		items, next := data(p)
		return items, next, nil
	})
}

// TasksService: /v1/tasks.
type TasksService struct{ c *Client }

// List returns one page; Pagination.NextCursor names the next one.
func (s *TasksService) List(opts *TaskListOptions) (*TaskPage, error) {
	return call[TaskPage](s.c, "GET", "/v1/tasks", encodeQuery(opts), nil)
}

// ListAll walks every task matching opts, by cursor.
func (s *TasksService) ListAll(opts *TaskListOptions) *Iter[Task] {
	o := TaskListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*TaskPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(&o)
	}, func(p *TaskPage) ([]Task, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *TasksService) Get(id string) (*Task, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Task](s.c, "GET", "/v1/tasks/"+escape(id), nil, nil)
}

func (s *TasksService) Create(t *TaskCreate) (*Task, error) {
	return call[Task](s.c, "POST", "/v1/tasks", nil, t)
}

func (s *TasksService) Update(id string, t *TaskUpdate) (*Task, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Task](s.c, "PATCH", "/v1/tasks/"+escape(id), nil, t)
}

func (s *TasksService) Delete(id string) error {
	if err := checkIDs(id); err != nil {
		return err
	}
	return s.c.do("DELETE", "/v1/tasks/"+escape(id), nil, nil, nil)
}

// ProjectsService: /v1/projects.
type ProjectsService struct{ c *Client }

func (s *ProjectsService) List(opts *ProjectListOptions) (*ProjectPage, error) {
	return call[ProjectPage](s.c, "GET", "/v1/projects", encodeQuery(opts), nil)
}

func (s *ProjectsService) ListAll(opts *ProjectListOptions) *Iter[Project] {
	o := ProjectListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*ProjectPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(&o)
	}, func(p *ProjectPage) ([]Project, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *ProjectsService) Get(id string) (*Project, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Project](s.c, "GET", "/v1/projects/"+escape(id), nil, nil)
}

func (s *ProjectsService) Create(p *ProjectCreate) (*Project, error) {
	return call[Project](s.c, "POST", "/v1/projects", nil, p)
}

func (s *ProjectsService) Update(id string, p *ProjectUpdate) (*Project, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Project](s.c, "PATCH", "/v1/projects/"+escape(id), nil, p)
}

func (s *ProjectsService) Delete(id string) error {
	if err := checkIDs(id); err != nil {
		return err
	}
	return s.c.do("DELETE", "/v1/projects/"+escape(id), nil, nil, nil)
}

// CommentsService: a task's comments.
type CommentsService struct{ c *Client }

func (s *CommentsService) List(taskID string, opts *CommentListOptions) (*CommentPage, error) {
	if err := checkIDs(taskID); err != nil {
		return nil, err
	}
	return call[CommentPage](s.c, "GET", "/v1/tasks/"+escape(taskID)+"/comments", encodeQuery(opts), nil)
}

func (s *CommentsService) ListAll(taskID string, opts *CommentListOptions) *Iter[Comment] {
	o := CommentListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*CommentPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(taskID, &o)
	}, func(p *CommentPage) ([]Comment, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *CommentsService) Get(id string) (*Comment, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Comment](s.c, "GET", "/v1/comments/"+escape(id), nil, nil)
}

func (s *CommentsService) Create(taskID string, cm *CommentCreate) (*Comment, error) {
	if err := checkIDs(taskID); err != nil {
		return nil, err
	}
	return call[Comment](s.c, "POST", "/v1/tasks/"+escape(taskID)+"/comments", nil, cm)
}

func (s *CommentsService) Update(id string, cm *CommentUpdate) (*Comment, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Comment](s.c, "PATCH", "/v1/comments/"+escape(id), nil, cm)
}

func (s *CommentsService) Delete(id string) error {
	if err := checkIDs(id); err != nil {
		return err
	}
	return s.c.do("DELETE", "/v1/comments/"+escape(id), nil, nil, nil)
}

// AttachmentsService: files on a task (README "Attachments").
type AttachmentsService struct{ c *Client }

func (s *AttachmentsService) List(taskID string, opts *AttachmentListOptions) (*AttachmentPage, error) {
	if err := checkIDs(taskID); err != nil {
		return nil, err
	}
	return call[AttachmentPage](s.c, "GET", "/v1/tasks/"+escape(taskID)+"/attachments", encodeQuery(opts), nil)
}

func (s *AttachmentsService) ListAll(taskID string, opts *AttachmentListOptions) *Iter[Attachment] {
	o := AttachmentListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*AttachmentPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(taskID, &o)
	}, func(p *AttachmentPage) ([]Attachment, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *AttachmentsService) Get(id string) (*Attachment, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Attachment](s.c, "GET", "/v1/attachments/"+escape(id), nil, nil)
}

// Upload attaches the bytes read from body to the task, streamed as they are read. It is
// sent once, never retried: the API takes no Idempotency-Key for uploads. A contentType of
// "" sends application/octet-stream.
func (s *AttachmentsService) Upload(taskID string, body io.Reader, filename, contentType string) (*Attachment, error) {
	if err := checkIDs(taskID); err != nil {
		return nil, err
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	path := "/v1/tasks/" + escape(taskID) + "/attachments"
	req, err := http.NewRequestWithContext(s.c.ctx, http.MethodPost, s.c.baseURL+path+"?"+url.Values{"filename": {filename}}.Encode(), body)
	if err != nil {
		return nil, fmt.Errorf("verk: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, raw, err := s.c.sendOnce(req, path)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return nil, errorFromResponse(resp, raw)
	}
	var out Attachment
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("verk: decoding the POST %s answer: %w", path, err)
	}
	return &out, nil
}

// Download answers the file's bytes as a stream: the caller reads and closes it. The
// response's headers carry its Content-Type, Content-Length and Content-Disposition.
func (s *AttachmentsService) Download(id string) (*http.Response, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	path := "/v1/attachments/" + escape(id) + "/content"
	req, err := http.NewRequestWithContext(s.c.ctx, http.MethodGet, s.c.baseURL+path, nil)
	if err != nil {
		return nil, fmt.Errorf("verk: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.c.apiKey)
	req.Header.Set("User-Agent", "verk-go/"+Version)
	resp, err := s.c.httpClient.Do(req)
	if err != nil {
		return nil, &ConnectionError{Method: "GET", Path: path, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, errorFromResponse(resp, raw)
	}
	return resp, nil
}

func (s *AttachmentsService) Delete(id string) error {
	if err := checkIDs(id); err != nil {
		return err
	}
	return s.c.do("DELETE", "/v1/attachments/"+escape(id), nil, nil, nil)
}

// sendOnce sends req with the key, once, and reads the whole answer (a JSON body).
func (c *Client) sendOnce(req *http.Request, path string) (*http.Response, []byte, error) {
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "verk-go/"+Version)
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, nil, &ConnectionError{Method: req.Method, Path: path, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, &ConnectionError{Method: req.Method, Path: path, Err: err}
	}
	return resp, raw, nil
}

// UsersService: the organization's members.
type UsersService struct{ c *Client }

func (s *UsersService) List(opts *UserListOptions) (*UserPage, error) {
	return call[UserPage](s.c, "GET", "/v1/users", encodeQuery(opts), nil)
}

func (s *UsersService) ListAll(opts *UserListOptions) *Iter[User] {
	o := UserListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*UserPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(&o)
	}, func(p *UserPage) ([]User, *string) { return p.Data, p.Pagination.NextCursor })
}

// Me is the member the API key belongs to.
func (s *UsersService) Me() (*User, error) { return call[User](s.c, "GET", "/v1/users/me", nil, nil) }

func (s *UsersService) Get(id string) (*User, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[User](s.c, "GET", "/v1/users/"+escape(id), nil, nil)
}

func (s *UsersService) Create(u *UserCreate) (*User, error) {
	return call[User](s.c, "POST", "/v1/users", nil, u)
}

func (s *UsersService) Update(id string, u *UserUpdate) (*User, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[User](s.c, "PATCH", "/v1/users/"+escape(id), nil, u)
}

func (s *UsersService) Delete(id string) error {
	if err := checkIDs(id); err != nil {
		return err
	}
	return s.c.do("DELETE", "/v1/users/"+escape(id), nil, nil, nil)
}

// APIKeysService: /v1/api-keys. Create and Rotate answer the key's secret, and only then.
type APIKeysService struct{ c *Client }

func (s *APIKeysService) List(opts *APIKeyListOptions) (*APIKeyPage, error) {
	return call[APIKeyPage](s.c, "GET", "/v1/api-keys", encodeQuery(opts), nil)
}

func (s *APIKeysService) ListAll(opts *APIKeyListOptions) *Iter[APIKey] {
	o := APIKeyListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*APIKeyPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(&o)
	}, func(p *APIKeyPage) ([]APIKey, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *APIKeysService) Create(k *APIKeyCreate) (*CreatedAPIKey, error) {
	return call[CreatedAPIKey](s.c, "POST", "/v1/api-keys", nil, k)
}

// Revoke stops the key at once.
func (s *APIKeysService) Revoke(id string) error {
	if err := checkIDs(id); err != nil {
		return err
	}
	return s.c.do("DELETE", "/v1/api-keys/"+escape(id), nil, nil, nil)
}

// Delete is Revoke.
func (s *APIKeysService) Delete(id string) error { return s.Revoke(id) }

// Rotate issues a new secret; the old one keeps working for GracePeriodSeconds (nil r: 0, at once).
func (s *APIKeysService) Rotate(id string, r *RotateAPIKey) (*RotatedAPIKey, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[RotatedAPIKey](s.c, "POST", "/v1/api-keys/"+escape(id)+"/rotate", nil, r)
}

// WebhooksService: /v1/webhooks. Create and RotateSecret answer the signing secret, and only then.
type WebhooksService struct {
	c          *Client
	Deliveries *DeliveriesService
}

func (s *WebhooksService) List(opts *WebhookListOptions) (*WebhookPage, error) {
	return call[WebhookPage](s.c, "GET", "/v1/webhooks", encodeQuery(opts), nil)
}

func (s *WebhooksService) ListAll(opts *WebhookListOptions) *Iter[Webhook] {
	o := WebhookListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*WebhookPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(&o)
	}, func(p *WebhookPage) ([]Webhook, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *WebhooksService) Get(id string) (*Webhook, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Webhook](s.c, "GET", "/v1/webhooks/"+escape(id), nil, nil)
}

func (s *WebhooksService) Create(w *WebhookCreate) (*WebhookWithSecret, error) {
	return call[WebhookWithSecret](s.c, "POST", "/v1/webhooks", nil, w)
}

func (s *WebhooksService) Update(id string, w *WebhookUpdate) (*Webhook, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Webhook](s.c, "PATCH", "/v1/webhooks/"+escape(id), nil, w)
}

func (s *WebhooksService) Delete(id string) error {
	if err := checkIDs(id); err != nil {
		return err
	}
	return s.c.do("DELETE", "/v1/webhooks/"+escape(id), nil, nil, nil)
}

// RotateSecret issues a new secret (shown once); the old one keeps signing during the grace period.
func (s *WebhooksService) RotateSecret(id string, r *RotateWebhookSecret) (*WebhookWithSecret, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[WebhookWithSecret](s.c, "POST", "/v1/webhooks/"+escape(id)+"/rotate-secret", nil, r)
}

// Recover re-sends every delivery that ended failed in the window [Since, Until).
func (s *WebhooksService) Recover(id string, r *RecoverWebhookDeliveries) (*WebhookRecovery, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[WebhookRecovery](s.c, "POST", "/v1/webhooks/"+escape(id)+"/recover", nil, r)
}

// Test sends a signed sample now and reports the receiver's answer.
func (s *WebhooksService) Test(id string, t *TestWebhook) (*WebhookTestResult, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[WebhookTestResult](s.c, "POST", "/v1/webhooks/"+escape(id)+"/test", nil, t)
}

// DeliveriesService: a webhook's delivery log.
type DeliveriesService struct{ c *Client }

func (s *DeliveriesService) List(webhookID string, opts *WebhookDeliveryListOptions) (*DeliveryPage, error) {
	if err := checkIDs(webhookID); err != nil {
		return nil, err
	}
	return call[DeliveryPage](s.c, "GET", "/v1/webhooks/"+escape(webhookID)+"/deliveries", encodeQuery(opts), nil)
}

func (s *DeliveriesService) ListAll(webhookID string, opts *WebhookDeliveryListOptions) *Iter[Delivery] {
	o := WebhookDeliveryListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*DeliveryPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(webhookID, &o)
	}, func(p *DeliveryPage) ([]Delivery, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *DeliveriesService) Get(webhookID, deliveryID string) (*DeliveryDetail, error) {
	if err := checkIDs(webhookID, deliveryID); err != nil {
		return nil, err
	}
	return call[DeliveryDetail](s.c, "GET", "/v1/webhooks/"+escape(webhookID)+"/deliveries/"+escape(deliveryID), nil, nil)
}

func (s *DeliveriesService) Redeliver(webhookID, deliveryID string) (*Delivery, error) {
	if err := checkIDs(webhookID, deliveryID); err != nil {
		return nil, err
	}
	return call[Delivery](s.c, "POST", "/v1/webhooks/"+escape(webhookID)+"/deliveries/"+escape(deliveryID)+"/redeliver", nil, nil)
}

// EventsService: the event log.
type EventsService struct{ c *Client }

func (s *EventsService) List(opts *EventListOptions) (*EventPage, error) {
	return call[EventPage](s.c, "GET", "/v1/events", encodeQuery(opts), nil)
}

func (s *EventsService) ListAll(opts *EventListOptions) *Iter[Event] {
	o := EventListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*EventPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(&o)
	}, func(p *EventPage) ([]Event, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *EventsService) Get(id string) (*Event, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[Event](s.c, "GET", "/v1/events/"+escape(id), nil, nil)
}

// IncomingWebhooksService: credentials for the incoming-webhook intake. Create and Rotate answer the key, and only then.
type IncomingWebhooksService struct{ c *Client }

func (s *IncomingWebhooksService) List(opts *IncomingWebhookListOptions) (*IncomingWebhookPage, error) {
	return call[IncomingWebhookPage](s.c, "GET", "/v1/incoming-webhooks", encodeQuery(opts), nil)
}

func (s *IncomingWebhooksService) ListAll(opts *IncomingWebhookListOptions) *Iter[IncomingWebhook] {
	o := IncomingWebhookListOptions{}
	if opts != nil {
		o = *opts
	}
	return walk(func(cursor string) (*IncomingWebhookPage, error) {
		if cursor != "" {
			o.Cursor, o.Page = cursor, 0
		}
		return s.List(&o)
	}, func(p *IncomingWebhookPage) ([]IncomingWebhook, *string) { return p.Data, p.Pagination.NextCursor })
}

func (s *IncomingWebhooksService) Get(id string) (*IncomingWebhook, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[IncomingWebhook](s.c, "GET", "/v1/incoming-webhooks/"+escape(id), nil, nil)
}

func (s *IncomingWebhooksService) Create(w *IncomingWebhookCreate) (*CreatedIncomingWebhook, error) {
	return call[CreatedIncomingWebhook](s.c, "POST", "/v1/incoming-webhooks", nil, w)
}

func (s *IncomingWebhooksService) Update(id string, w *IncomingWebhookUpdate) (*IncomingWebhook, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[IncomingWebhook](s.c, "PATCH", "/v1/incoming-webhooks/"+escape(id), nil, w)
}

func (s *IncomingWebhooksService) Delete(id string) error {
	if err := checkIDs(id); err != nil {
		return err
	}
	return s.c.do("DELETE", "/v1/incoming-webhooks/"+escape(id), nil, nil, nil)
}

func (s *IncomingWebhooksService) Rotate(id string) (*CreatedIncomingWebhook, error) {
	if err := checkIDs(id); err != nil {
		return nil, err
	}
	return call[CreatedIncomingWebhook](s.c, "POST", "/v1/incoming-webhooks/"+escape(id)+"/rotate", nil, nil)
}
