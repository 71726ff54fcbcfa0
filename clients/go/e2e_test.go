package verk

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"
)

type delivery struct {
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func receivedBy(t *testing.T, name string) []delivery {
	resp, err := http.Get(os.Getenv("VERK_RECEIVER_URL") + "/control/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []delivery
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// must unwraps a (result, error) return; an error fails the test (as a panic, which go test reports with its stack).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestE2E runs against a real `wrangler dev` and webhook receiver, started by
// scripts/e2e-clients.mjs (`npm run e2e`), which sets VERK_E2E, VERK_BASE_URL,
// VERK_API_KEY, VERK_FREE_API_KEY (20 requests a minute) and VERK_RECEIVER_URL.
func TestE2E(t *testing.T) {
	if os.Getenv("VERK_E2E") == "" {
		t.Skip("needs scripts/e2e-clients.mjs (npm run e2e)")
	}
	client := NewClient(os.Getenv("VERK_API_KEY"))
	project := must(client.Projects.Create(&ProjectCreate{Name: "Go e2e"}))
	webhook := must(client.Webhooks.Create(&WebhookCreate{
		URL: os.Getenv("VERK_RECEIVER_URL") + "/hook/go", Events: []string{"task.created", "task.completed"},
	}))
	var tasks []*Task
	for _, title := range []string{"Go 1", "Go 2", "Go 3", "Go 4", "Go 5"} {
		tasks = append(tasks, must(client.Tasks.Create(&TaskCreate{Title: title, ProjectID: project.ID})))
	}
	done := must(client.Tasks.Update(tasks[0].ID, &TaskUpdate{Status: "done"}))
	if done.Status != "done" || done.CompletedAt == nil {
		t.Fatalf("update: %+v", done)
	}

	page := must(client.Tasks.List(&TaskListOptions{ProjectID: project.ID, Status: "todo", Limit: 2}))
	if len(page.Data) != 2 || page.Pagination.NextCursor == nil {
		t.Fatalf("first page: %+v", page.Pagination)
	}
	all := must(client.Tasks.ListAll(&TaskListOptions{ProjectID: project.ID, Status: "todo", Limit: 2, Order: "asc"}).All())
	var titles []string
	for _, task := range all {
		titles = append(titles, task.Title)
	}
	if len(titles) != 4 || titles[0] != "Go 2" || titles[3] != "Go 5" {
		t.Fatalf("ListAll: %v", titles)
	}
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")
	completed := must(client.Tasks.List(&TaskListOptions{ProjectID: project.ID, Status: "done", CompletedAfter: yesterday}))
	if len(completed.Data) != 1 || completed.Data[0].ID != tasks[0].ID {
		t.Fatalf("completedAfter: %+v", completed.Data)
	}

	if err := client.Tasks.Delete(tasks[4].ID); err != nil {
		t.Fatal(err)
	}
	var apiErr *APIError
	if _, err := client.Tasks.Get(tasks[4].ID); !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Code != "NOT_FOUND" || apiErr.RequestID == "" {
		t.Fatalf("deleted task: %v", err)
	}
	if _, err := client.Tasks.Create(&TaskCreate{ProjectID: project.ID}); !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Field != "title" {
		t.Fatalf("no title: %v", err)
	}

	fixed := NewClient(os.Getenv("VERK_API_KEY"), WithIdempotencyKeys(func() string { return "go-e2e-key-1" }))
	once := must(fixed.Tasks.Create(&TaskCreate{Title: "Once", ProjectID: project.ID}))
	if again := must(fixed.Tasks.Create(&TaskCreate{Title: "Once", ProjectID: project.ID})); again.ID != once.ID {
		t.Fatalf("a replayed create made a second task")
	}

	var got []delivery
	for deadline := time.Now().Add(25 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if got = receivedBy(t, "go"); len(got) >= 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries after 25 s", len(got))
		}
	}
	created := map[string]bool{}
	sawCompleted := false
	for _, d := range got {
		headers := http.Header{}
		for k, v := range d.Headers {
			headers.Set(k, v)
		}
		event, err := VerifyWebhook([]byte(d.Body), headers, webhook.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if event.Task == nil || event.WebhookID != webhook.ID {
			t.Fatalf("event %+v", event)
		}
		created[event.Task.Data.ID] = created[event.Task.Data.ID] || event.Event == "task.created"
		sawCompleted = sawCompleted || (event.Event == "task.completed" && event.Task.Data.ID == tasks[0].ID)
		if _, err := VerifyWebhook([]byte(d.Body), headers, "whsec_bm90LXRoZS1zZWNyZXQ="); err == nil {
			t.Fatal("a wrong secret verified")
		}
	}
	for _, task := range tasks {
		if !created[task.ID] {
			t.Fatalf("no task.created for %s", task.ID)
		}
	}
	if !sawCompleted {
		t.Fatal("no task.completed")
	}

	// A free organization: 20 requests a minute. Spend them, see the 429, then let the
	// client wait as long as Retry-After says and succeed. Up to 41 tries: the window
	// resets on the minute, and a run that straddles it still spends 21 in one window.
	strict := NewClient(os.Getenv("VERK_FREE_API_KEY"), WithRetries(0, time.Minute, time.Second))
	var limited *APIError
	for i := 0; i < 41 && limited == nil; i++ {
		if _, err := strict.Users.Me(); err != nil && !errors.As(err, &limited) {
			t.Fatal(err)
		}
	}
	if limited == nil || limited.Status != 429 || limited.Code != "RATE_LIMITED" || limited.RetryAfter <= 0 {
		t.Fatalf("no 429 after 25 requests: %+v", limited)
	}
	var waits []time.Duration
	patient := NewClient(os.Getenv("VERK_FREE_API_KEY"), WithSleep(func(d time.Duration) { waits = append(waits, d); time.Sleep(d) }))
	if me := must(patient.Users.Me()); me.ID == "" || len(waits) == 0 || waits[0] > time.Minute {
		t.Fatalf("recovery: %+v waits %v", me, waits)
	}
}
