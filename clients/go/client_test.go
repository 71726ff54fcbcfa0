package verk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"
)

type received struct {
	Method, Path, Query, Key, Auth string
	Body                           map[string]any
}

type answer struct {
	status  int
	body    any
	headers map[string]string
	drop    bool
}

// fakeAPI is a real HTTP server on 127.0.0.1 answering from respond, recording every request.
func fakeAPI(t *testing.T, respond func(r received) answer) (*httptest.Server, *[]received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := received{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Key: r.Header.Get("Idempotency-Key"), Auth: r.Header.Get("Authorization")}
		if len(raw) > 0 {
			_ = json.Unmarshal(raw, &rec.Body)
		}
		mu.Lock()
		got = append(got, rec)
		mu.Unlock()
		a := respond(rec)
		if a.drop {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		for k, v := range a.headers {
			w.Header().Set(k, v)
		}
		if a.body != nil {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.status)
		if a.body != nil {
			_ = json.NewEncoder(w).Encode(a.body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func taskJSON(id string, overrides map[string]any) map[string]any {
	t := map[string]any{
		"id": id, "title": "A task", "description": nil, "status": "todo", "priority": "medium",
		"projectId": "proj_123", "assigneeId": nil, "dueDate": nil, "tags": []string{}, "createdBy": "user_1",
		"createdAt": "2026-01-15T14:30:00.000Z", "updatedAt": "2026-01-15T14:30:00.000Z", "completedAt": nil,
	}
	for k, v := range overrides {
		t[k] = v
	}
	return t
}

func apiError(status int, code string, headers map[string]string) answer {
	return answer{status: status, headers: headers, body: map[string]any{
		"error": map[string]any{"code": code, "message": "refused", "field": "title", "requestId": "req_test"},
	}}
}

func testClient(srv *httptest.Server, sleeps *[]time.Duration) *Client {
	return NewClient("vk_live_test", WithBaseURL(srv.URL), WithSleep(func(d time.Duration) { *sleeps = append(*sleeps, d) }))
}

// The product documentation's Go example, unchanged except `_, err =` on Update: every
// method returns (result, error).
func TestSeedExample(t *testing.T) {
	srv, got := fakeAPI(t, func(r received) answer {
		if r.Method == "GET" {
			return answer{status: 200, body: map[string]any{"data": []any{taskJSON("task_789", nil)}, "pagination": map[string]any{"limit": 50, "nextCursor": nil}}}
		}
		return answer{status: 201, body: taskJSON("task_789", r.Body)}
	})
	t.Setenv("VERK_API_KEY", "vk_live_example")
	t.Setenv("VERK_BASE_URL", srv.URL)

	client := NewClient(os.Getenv("VERK_API_KEY"))

	// Create task
	task, err := client.Tasks.Create(&TaskCreate{
		Title:      "New task",
		ProjectID:  "proj_123",
		AssigneeID: "user_456",
	})

	// List tasks
	tasks, err := client.Tasks.List(&TaskListOptions{
		ProjectID: "proj_123",
		Status:    "in_progress",
	})

	// Update task
	_, err = client.Tasks.Update("task_789", &TaskUpdate{
		Status: "done",
	})

	if err != nil || task.Title != "New task" || len(tasks.Data) != 1 || tasks.Data[0].ID != "task_789" {
		t.Fatalf("err %v task %+v tasks %+v", err, task, tasks)
	}
	want := []string{"POST /v1/tasks ", "GET /v1/tasks projectId=proj_123&status=in_progress", "PATCH /v1/tasks/task_789 "}
	for i, r := range *got {
		if r.Method+" "+r.Path+" "+r.Query != want[i] || r.Auth != "Bearer vk_live_example" {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
	if !reflect.DeepEqual((*got)[0].Body, map[string]any{"title": "New task", "projectId": "proj_123", "assigneeId": "user_456"}) {
		t.Fatalf("create body %v", (*got)[0].Body)
	}
	if !reflect.DeepEqual((*got)[2].Body, map[string]any{"status": "done"}) {
		t.Fatalf("update body %v", (*got)[2].Body)
	}
}

func TestOptionalFieldsPointersAndSend(t *testing.T) {
	srv, got := fakeAPI(t, func(r received) answer { return answer{status: 200, body: map[string]any{"id": "x"}} })
	var sleeps []time.Duration
	c := testClient(srv, &sleeps)
	if _, err := c.Projects.Update("proj_1", &ProjectUpdate{Archived: Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tasks.Update("task_1", &TaskUpdate{Send: []string{"assigneeId", "tags"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.APIKeys.Rotate("key_1", &RotateAPIKey{GracePeriodSeconds: Int(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Webhooks.RotateSecret("wh_1", nil); err != nil {
		t.Fatal(err)
	}
	bodies := []map[string]any{{"archived": false}, {"assigneeId": nil, "tags": []any{}}, {"gracePeriodSeconds": float64(0)}, {}}
	for i, want := range bodies {
		if !reflect.DeepEqual((*got)[i].Body, want) {
			t.Fatalf("body %d: %#v", i, (*got)[i].Body)
		}
	}
	if _, err := c.Tasks.Update("task_1", &TaskUpdate{Send: []string{"title"}}); err == nil {
		t.Fatal("title cannot be sent empty")
	}
	if _, err := c.Projects.List(&ProjectListOptions{Archived: "false", Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if q := (*got)[4].Query; q != "archived=false&limit=5" {
		t.Fatalf("query %q", q)
	}
}

func TestListAllFollowsNextCursor(t *testing.T) {
	pages := map[string][]string{"": {"t1", "t2"}, "c1": {"t3", "t4"}, "c2": {"t5"}}
	next := map[string]any{"": "c1", "c1": "c2", "c2": nil}
	srv, got := fakeAPI(t, func(r received) answer {
		cursor := ""
		if q, _ := parseQuery(r.Query); q != nil {
			cursor = q.Get("cursor")
		}
		var data []any
		for _, id := range pages[cursor] {
			data = append(data, taskJSON(id, nil))
		}
		return answer{status: 200, body: map[string]any{"data": data, "pagination": map[string]any{"limit": 2, "nextCursor": next[cursor]}}}
	})
	var sleeps []time.Duration
	it := testClient(srv, &sleeps).Tasks.ListAll(&TaskListOptions{Status: "todo", Limit: 2, Page: 1})
	if len(*got) != 0 {
		t.Fatal("ListAll must not fetch before Next")
	}
	var ids []string
	if err := it.ForEach(func(task Task) error { ids = append(ids, task.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, []string{"t1", "t2", "t3", "t4", "t5"}) {
		t.Fatalf("ids %v", ids)
	}
	queries := []string{"limit=2&page=1&status=todo", "cursor=c1&limit=2&status=todo", "cursor=c2&limit=2&status=todo"}
	for i, q := range queries {
		if (*got)[i].Query != q {
			t.Fatalf("query %d: %s", i, (*got)[i].Query)
		}
	}
}

func TestRetryAfterAndTheSameIdempotencyKey(t *testing.T) {
	answers := []answer{apiError(429, "RATE_LIMITED", map[string]string{"Retry-After": "2"}), {status: 201, body: taskJSON("t", nil)}}
	srv, got := fakeAPI(t, func(r received) answer { a := answers[0]; answers = answers[1:]; return a })
	var sleeps []time.Duration
	task, err := testClient(srv, &sleeps).Tasks.Create(&TaskCreate{Title: "Once", ProjectID: "p"})
	if err != nil || task.ID != "t" {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sleeps, []time.Duration{2 * time.Second}) {
		t.Fatalf("sleeps %v", sleeps)
	}
	if (*got)[0].Key == "" || (*got)[0].Key != (*got)[1].Key {
		t.Fatalf("keys %q %q", (*got)[0].Key, (*got)[1].Key)
	}
}

func TestServerErrorsRetriedWithBackoffOnGet(t *testing.T) {
	answers := []answer{apiError(503, "INTERNAL_ERROR", nil), apiError(500, "INTERNAL_ERROR", nil), {status: 200, body: taskJSON("t", nil)}}
	srv, got := fakeAPI(t, func(r received) answer { a := answers[0]; answers = answers[1:]; return a })
	var sleeps []time.Duration
	if _, err := testClient(srv, &sleeps).Tasks.Get("t"); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 3 || !reflect.DeepEqual(sleeps, []time.Duration{500 * time.Millisecond, time.Second}) {
		t.Fatalf("%d requests, sleeps %v", len(*got), sleeps)
	}
}

func TestOther4xxAreNotRetriedAndAreTypedErrors(t *testing.T) {
	srv, got := fakeAPI(t, func(r received) answer { return apiError(400, "VALIDATION_ERROR", nil) })
	var sleeps []time.Duration
	_, err := testClient(srv, &sleeps).Tasks.Create(&TaskCreate{ProjectID: "p"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != "VALIDATION_ERROR" || apiErr.Field != "title" || apiErr.RequestID != "req_test" {
		t.Fatalf("%#v", err)
	}
	if len(*got) != 1 || len(sleeps) != 0 {
		t.Fatalf("%d requests", len(*got))
	}
}

func TestPatchIsNotRepeatedAfterAServerError(t *testing.T) {
	srv, got := fakeAPI(t, func(r received) answer { return apiError(500, "INTERNAL_ERROR", nil) })
	var sleeps []time.Duration
	if _, err := testClient(srv, &sleeps).Tasks.Update("t", &TaskUpdate{Status: "done"}); err == nil || len(*got) != 1 {
		t.Fatalf("err %v, %d requests", err, len(*got))
	}
}

func TestRetriesEndAndLongRetryAfterIsReturned(t *testing.T) {
	srv, got := fakeAPI(t, func(r received) answer { return apiError(429, "RATE_LIMITED", map[string]string{"Retry-After": "1"}) })
	var sleeps []time.Duration
	_, err := testClient(srv, &sleeps).Tasks.List(nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.RetryAfter != time.Second || len(*got) != 4 {
		t.Fatalf("err %v, %d requests", err, len(*got))
	}
	srv2, got2 := fakeAPI(t, func(r received) answer {
		return apiError(429, "RATE_LIMITED", map[string]string{"Retry-After": "3600"})
	})
	sleeps = nil
	if _, err := testClient(srv2, &sleeps).Tasks.List(nil); err == nil || len(*got2) != 1 || len(sleeps) != 0 {
		t.Fatalf("a Retry-After beyond the limit must be returned at once: %v %d", err, len(*got2))
	}
}

func TestConnectionErrors(t *testing.T) {
	answers := []answer{{drop: true}, {status: 201, body: taskJSON("t", nil)}}
	srv, got := fakeAPI(t, func(r received) answer { a := answers[0]; answers = answers[1:]; return a })
	var sleeps []time.Duration
	if _, err := testClient(srv, &sleeps).Tasks.Create(&TaskCreate{Title: "a", ProjectID: "p"}); err != nil {
		t.Fatal(err)
	}
	if (*got)[0].Key != (*got)[1].Key {
		t.Fatal("a POST retried after a connection error must keep its Idempotency-Key")
	}

	srv2, got2 := fakeAPI(t, func(r received) answer { return answer{drop: true} })
	var connErr *ConnectionError
	if _, err := testClient(srv2, &sleeps).Tasks.Update("t", &TaskUpdate{Status: "done"}); !errors.As(err, &connErr) || len(*got2) != 1 {
		t.Fatalf("a PATCH is not repeated after a connection error: %v %d", err, len(*got2))
	}

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	sleeps = nil
	c := NewClient("k", WithBaseURL("http://"+addr), WithSleep(func(d time.Duration) { sleeps = append(sleeps, d) }))
	if _, err := c.Tasks.List(nil); !errors.As(err, &connErr) || len(sleeps) != 3 {
		t.Fatalf("refused: %v, sleeps %v", err, sleeps)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := fakeAPI(t, func(r received) answer {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		return answer{status: 200, body: taskJSON("t", nil)}
	})
	defer close(release)
	c := NewClient("k", WithBaseURL(srv.URL), WithTimeout(200*time.Millisecond), WithRetries(0, time.Second, time.Millisecond))
	var connErr *ConnectionError
	if _, err := c.Tasks.Get("t"); !errors.As(err, &connErr) {
		t.Fatalf("want a timeout, got %v", err)
	}
}

func TestEnvironmentAndEveryResourcePath(t *testing.T) {
	srv, got := fakeAPI(t, func(r received) answer {
		if r.Method == "DELETE" {
			return answer{status: 204}
		}
		return answer{status: 200, body: map[string]any{"id": "x"}}
	})
	t.Setenv("VERK_API_KEY", "vk_live_env")
	t.Setenv("VERK_BASE_URL", srv.URL+"/v1/")
	c := NewClient("")
	calls := []func() error{
		func() error { _, err := c.Users.Me(); return err },
		func() error { _, err := c.Comments.Create("task_1", &CommentCreate{Content: "Hi"}); return err },
		func() error { _, err := c.Webhooks.Deliveries.Redeliver("wh_1", "del_1"); return err },
		func() error { _, err := c.IncomingWebhooks.Rotate("iwh_1"); return err },
		func() error { _, err := c.Events.Get("evt_1"); return err },
		func() error { return c.APIKeys.Revoke("key_1") },
		func() error { _, err := c.Tasks.Get("a/b"); return err },
	}
	for _, call := range calls {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"GET /v1/users/me", "POST /v1/tasks/task_1/comments", "POST /v1/webhooks/wh_1/deliveries/del_1/redeliver",
		"POST /v1/incoming-webhooks/iwh_1/rotate", "GET /v1/events/evt_1", "DELETE /v1/api-keys/key_1", "GET /v1/tasks/a%2Fb"}
	for i, w := range want {
		if (*got)[i].Method+" "+(*got)[i].Path != w || (*got)[i].Auth != "Bearer vk_live_env" {
			t.Fatalf("request %d: %+v", i, (*got)[i])
		}
	}
	if _, err := c.Tasks.Get(""); err == nil {
		t.Fatal("an empty id must be refused before any request")
	}
}

func TestWithContextEndsCallsAndWaits(t *testing.T) {
	srv, got := fakeAPI(t, func(r received) answer { return apiError(429, "RATE_LIMITED", map[string]string{"Retry-After": "30"}) })
	c := NewClient("k", WithBaseURL(srv.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := c.WithContext(ctx).Tasks.List(nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(started) > 5*time.Second || len(*got) != 1 {
		t.Fatalf("err %v after %v, %d requests", err, time.Since(started), len(*got))
	}
	if c.Tasks.c != c || c.ctx != context.Background() {
		t.Fatal("WithContext must not change the original client")
	}
	canceled, stop := context.WithCancel(context.Background())
	stop()
	if _, err := c.WithContext(canceled).Tasks.Get("t"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a canceled context: %v", err)
	}
}
