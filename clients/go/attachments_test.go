package verk

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestAttachmentsUploadOnceAndDownload(t *testing.T) {
	meta := map[string]any{"id": "file_1", "taskId": "task_1", "name": "a b.txt", "size": 5, "contentType": "text/plain"}
	srv, got := fakeAPI(t, func(r received) answer {
		if strings.HasSuffix(r.Path, "/content") {
			return answer{status: 200, body: "hello"}
		}
		return answer{status: 201, body: meta}
	})
	var sleeps []time.Duration
	c := testClient(srv, &sleeps)
	a, err := c.Attachments.Upload("task_1", strings.NewReader(`{"x":1}`), "a b.txt", "text/plain")
	if err != nil || a.ID != "file_1" || a.Size != 5 {
		t.Fatalf("upload: %+v %v", a, err)
	}
	resp, err := c.Attachments.Download("file_1")
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != `"hello"` {
		t.Fatalf("download body %q", body)
	}
	first := (*got)[0]
	if first.Method != "POST" || first.Path != "/v1/tasks/task_1/attachments" || first.Query != "filename=a+b.txt" {
		t.Fatalf("upload request %+v", first)
	}
	if first.Key != "" || first.Auth != "Bearer vk_live_test" || first.Body["x"] != float64(1) {
		t.Fatalf("upload sent key %q auth %q body %v", first.Key, first.Auth, first.Body)
	}
}

func TestAttachmentsRefusedUploadIsNotRetried(t *testing.T) {
	srv, got := fakeAPI(t, func(r received) answer { return apiError(413, "PAYLOAD_TOO_LARGE", nil) })
	var sleeps []time.Duration
	_, err := testClient(srv, &sleeps).Attachments.Upload("task_1", strings.NewReader("xyz"), "x.bin", "")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 413 || apiErr.Code != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("err %v", err)
	}
	if len(*got) != 1 {
		t.Fatalf("%d requests", len(*got))
	}
}
