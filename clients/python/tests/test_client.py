import os
import socket
import unittest
from datetime import datetime, timezone
from unittest import mock

from tests.fake_api import FakeApi, error, task
from verk import Page, VerkClient, VerkConnectionError, VerkError


class ClientTest(unittest.TestCase):
    def serve(self, respond):
        api = FakeApi(respond)
        self.addCleanup(api.close)
        self.sleeps = []
        client = VerkClient(api_key="vk_live_test", base_url=api.url, sleep=self.sleeps.append)
        return api, client


class Requests(ClientTest):
    def test_the_seed_example_runs_unchanged(self) -> None:
        def respond(r):
            if r.method == "GET":
                return {"status": 200, "body": {"data": [task("task_789")], "pagination": {"limit": 50, "nextCursor": None}}}
            return {"status": 201 if r.method == "POST" else 200, "body": task("task_789", **r.json())}

        api, _ = self.serve(respond)
        with mock.patch.dict(os.environ, {"VERK_API_KEY": "vk_live_example", "VERK_BASE_URL": api.url}):
            # The product documentation's Python example, unchanged.
            client = VerkClient(api_key=os.environ["VERK_API_KEY"])

            # Create a task
            task_ = client.tasks.create(title="New task", project_id="proj_123", assignee_id="user_456")

            # List tasks
            tasks = client.tasks.list(project_id="proj_123", status="in_progress")

            # Update task
            client.tasks.update("task_789", status="done")

        self.assertEqual(task_["title"], "New task")
        self.assertEqual(task_["assignee_id"], "user_456")
        self.assertEqual([t["id"] for t in tasks], ["task_789"])
        sent = [(r.method, r.path, r.query) for r in api.received]
        self.assertEqual(
            sent,
            [
                ("POST", "/v1/tasks", {}),
                ("GET", "/v1/tasks", {"projectId": "proj_123", "status": "in_progress"}),
                ("PATCH", "/v1/tasks/task_789", {}),
            ],
        )
        self.assertEqual(api.received[0].json(), {"title": "New task", "projectId": "proj_123", "assigneeId": "user_456"})
        self.assertEqual(api.received[2].json(), {"status": "done"})
        self.assertEqual(api.received[0].headers["authorization"], "Bearer vk_live_example")

    def test_records_are_snake_case_with_datetimes_for_a_dataframe(self) -> None:
        done = task("task_1", status="done", completedAt="2026-01-20T10:00:00.000Z")
        _, client = self.serve(
            lambda r: {"status": 200, "body": {"data": [done], "pagination": {"limit": 50, "nextCursor": None}}}
        )
        tasks = client.tasks.list(status="done", completed_after="2026-01-01", completed_before=datetime(2026, 2, 1))
        self.assertIsInstance(tasks, Page)
        self.assertIsInstance(tasks, list)
        record = tasks[0]
        self.assertEqual(set(record), {"id", "title", "description", "status", "priority", "project_id", "assignee_id",
                                       "due_date", "tags", "created_by", "created_at", "updated_at", "completed_at"})
        self.assertEqual(record["completed_at"], datetime(2026, 1, 20, 10, tzinfo=timezone.utc))
        self.assertEqual((record["completed_at"] - record["created_at"]).days, 4)

    def test_filters_and_fields_are_mapped_to_the_api_and_unknown_ones_refused(self) -> None:
        api, client = self.serve(
            lambda r: {"status": 200, "body": {"data": [], "pagination": {"limit": 50, "nextCursor": None}}}
        )
        client.tasks.list(completed_after="2026-01-01", completed_before=datetime(2026, 2, 1, tzinfo=timezone.utc), limit=10)
        self.assertEqual(
            api.received[0].query,
            {"completedAfter": "2026-01-01", "completedBefore": "2026-02-01T00:00:00Z", "limit": "10"},
        )
        client.projects.list(archived=False)
        self.assertEqual(api.received[1].query, {"archived": "false"})
        with self.assertRaises(TypeError):
            client.tasks.list(colour="red")
        with self.assertRaises(TypeError):
            client.tasks.create(title="x", project_id="p", colour="red")
        self.assertEqual(len(api.received), 2)

    def test_none_sends_null_and_path_ids_are_escaped(self) -> None:
        api, client = self.serve(lambda r: {"status": 200, "body": task("a/b")})
        client.tasks.update("a/b", assignee_id=None, tags=[])
        self.assertEqual(api.received[0].path, "/v1/tasks/a%2Fb")
        self.assertEqual(api.received[0].json(), {"assigneeId": None, "tags": []})

    def test_every_resource_reaches_its_operation(self) -> None:
        api, client = self.serve(lambda r: {"status": 204} if r.method == "DELETE" else {"status": 200, "body": {"id": "x"}})
        client.projects.get("proj_1")
        client.comments.create("task_1", content="Hi")
        client.users.me()
        client.members.get("user_1")
        client.api_keys.rotate("key_1", grace_period_seconds=0)
        client.webhooks.rotate_secret("wh_1")
        client.webhooks.deliveries.redeliver("wh_1", "del_1")
        client.events.get("evt_1")
        client.incoming_webhooks.rotate("iwh_1")
        self.assertIsNone(client.api_keys.revoke("key_1"))
        self.assertEqual(
            [f"{r.method} {r.path}" for r in api.received],
            [
                "GET /v1/projects/proj_1",
                "POST /v1/tasks/task_1/comments",
                "GET /v1/users/me",
                "GET /v1/users/user_1",
                "POST /v1/api-keys/key_1/rotate",
                "POST /v1/webhooks/wh_1/rotate-secret",
                "POST /v1/webhooks/wh_1/deliveries/del_1/redeliver",
                "GET /v1/events/evt_1",
                "POST /v1/incoming-webhooks/iwh_1/rotate",
                "DELETE /v1/api-keys/key_1",
            ],
        )
        self.assertEqual(api.received[4].json(), {"gracePeriodSeconds": 0})

    def test_the_key_and_base_url_come_from_the_environment(self) -> None:
        api, _ = self.serve(lambda r: {"status": 200, "body": {"id": "user_1"}})
        with mock.patch.dict(os.environ, {"VERK_API_KEY": "vk_live_env", "VERK_BASE_URL": api.url + "/v1/"}):
            VerkClient().users.me()
        self.assertEqual(api.received[0].headers["authorization"], "Bearer vk_live_env")
        self.assertEqual(api.received[0].path, "/v1/users/me")
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaises(ValueError):
                VerkClient()


class Attachments(ClientTest):
    def test_upload_sends_the_bytes_once_with_name_and_type_and_download_returns_bytes(self) -> None:
        meta = {"id": "file_1", "taskId": "task_1", "name": "a b.txt", "size": 5, "createdAt": "2026-01-01T00:00:00.000Z"}

        def respond(r):
            if r.path.endswith("/content"):
                return {"status": 200, "body": "hello"}
            return {"status": 201 if r.method == "POST" else 200, "body": meta}

        api, client = self.serve(respond)
        uploaded = client.attachments.upload("task_1", b"hello", filename="a b.txt", content_type="text/plain")
        self.assertEqual(uploaded["task_id"], "task_1")
        self.assertEqual(client.attachments.download("file_1"), b'"hello"')
        client.attachments.delete("file_1")
        first = api.received[0]
        self.assertEqual((first.method, first.path, first.query), ("POST", "/v1/tasks/task_1/attachments", {"filename": "a b.txt"}))
        self.assertEqual(first.body, "hello")
        self.assertEqual(first.headers["content-type"], "text/plain")
        self.assertNotIn("idempotency-key", first.headers)
        self.assertEqual([(r.method, r.path) for r in api.received[1:]], [("GET", "/v1/attachments/file_1/content"), ("DELETE", "/v1/attachments/file_1")])

    def test_a_refused_upload_raises_without_a_retry(self) -> None:
        api, client = self.serve(lambda r: error(413, "PAYLOAD_TOO_LARGE", "too big"))
        with self.assertRaises(VerkError) as caught:
            client.attachments.upload("task_1", b"xyz", filename="x.bin")
        self.assertEqual((caught.exception.status, caught.exception.code), (413, "PAYLOAD_TOO_LARGE"))
        self.assertEqual(len(api.received), 1)


class Pagination(ClientTest):
    def test_list_all_follows_next_cursor_and_keeps_the_filters(self) -> None:
        pages = {None: (["t1", "t2"], "c1"), "c1": (["t3", "t4"], "c2"), "c2": (["t5"], None)}

        def respond(r):
            ids, cursor = pages[r.query.get("cursor")]
            return {"status": 200, "body": {"data": [task(i) for i in ids], "pagination": {"limit": 2, "nextCursor": cursor}}}

        api, client = self.serve(respond)
        every = client.tasks.list_all(status="todo", limit=2, page=1)
        self.assertEqual(api.received, [])  # lazy: nothing is fetched before the loop starts
        self.assertEqual([t["id"] for t in every], ["t1", "t2", "t3", "t4", "t5"])
        self.assertEqual(
            [r.query for r in api.received],
            [
                {"status": "todo", "limit": "2", "page": "1"},
                {"status": "todo", "limit": "2", "cursor": "c1"},
                {"status": "todo", "limit": "2", "cursor": "c2"},
            ],
        )

    def test_sub_resources_page_too(self) -> None:
        def respond(r):
            nxt = None if r.query.get("cursor") else "c1"
            return {"status": 200, "body": {"data": [{"id": r.query.get("cursor", "first")}], "pagination": {"limit": 1, "nextCursor": nxt}}}

        api, client = self.serve(respond)
        self.assertEqual([c["id"] for c in client.comments.list_all("task_1")], ["first", "c1"])
        self.assertEqual([d["id"] for d in client.webhooks.deliveries.list_all("wh_1", status="failed")], ["first", "c1"])
        self.assertEqual(api.received[3].path, "/v1/webhooks/wh_1/deliveries")
        self.assertEqual(api.received[3].query, {"status": "failed", "cursor": "c1"})


class Retries(ClientTest):
    def test_429_waits_as_long_as_retry_after_says_and_reuses_the_idempotency_key(self) -> None:
        answers = [error(429, "RATE_LIMITED", headers={"Retry-After": "2"}), {"status": 201, "body": task("task_1")}]
        api, client = self.serve(lambda r: answers.pop(0))
        created = client.tasks.create(title="Once", project_id="proj_1")
        self.assertEqual(created["id"], "task_1")
        self.assertEqual(self.sleeps, [2.0])
        keys = [r.headers.get("idempotency-key") for r in api.received]
        self.assertEqual(len(keys), 2)
        self.assertTrue(keys[0])
        self.assertEqual(keys[0], keys[1])

    def test_each_post_gets_its_own_key(self) -> None:
        api, client = self.serve(lambda r: {"status": 201, "body": task("t")})
        client.tasks.create(title="a", project_id="p")
        client.tasks.create(title="b", project_id="p")
        self.assertNotEqual(api.received[0].headers["idempotency-key"], api.received[1].headers["idempotency-key"])
        self.assertNotIn("idempotency-key", client.tasks.get("t") and api.received[2].headers)

    def test_5xx_is_retried_with_doubling_backoff_on_get_and_post(self) -> None:
        answers = [error(503, "INTERNAL_ERROR"), error(500, "INTERNAL_ERROR"), {"status": 200, "body": task("t")}]
        api, client = self.serve(lambda r: answers.pop(0))
        self.assertEqual(client.tasks.get("t")["id"], "t")
        self.assertEqual(self.sleeps, [0.5, 1.0])
        self.assertEqual(len(api.received), 3)

    def test_other_4xx_are_never_retried_and_raise_a_typed_error(self) -> None:
        api, client = self.serve(lambda r: error(400, "VALIDATION_ERROR", "title is required", field="title"))
        with self.assertRaises(VerkError) as caught:
            client.tasks.create(title="", project_id="p")
        e = caught.exception
        self.assertEqual((e.status, e.code, e.field, e.request_id), (400, "VALIDATION_ERROR", "title", "req_test"))
        self.assertEqual(len(api.received), 1)
        self.assertEqual(self.sleeps, [])

    def test_a_patch_is_not_repeated_after_a_5xx(self) -> None:
        api, client = self.serve(lambda r: error(500, "INTERNAL_ERROR"))
        with self.assertRaises(VerkError) as caught:
            client.tasks.update("t", status="done")
        self.assertEqual(caught.exception.status, 500)
        self.assertEqual(len(api.received), 1)

    def test_retries_end_after_max_retries_with_the_last_error(self) -> None:
        api, client = self.serve(lambda r: error(429, "RATE_LIMITED", headers={"Retry-After": "1"}))
        with self.assertRaises(VerkError) as caught:
            client.tasks.list()
        self.assertEqual((caught.exception.status, caught.exception.retry_after), (429, 1.0))
        self.assertEqual(len(api.received), 4)

    def test_a_retry_after_longer_than_max_retry_delay_raises_at_once(self) -> None:
        api, client = self.serve(lambda r: error(429, "RATE_LIMITED", headers={"Retry-After": "3600"}))
        with self.assertRaises(VerkError):
            client.tasks.list()
        self.assertEqual(len(api.received), 1)
        self.assertEqual(self.sleeps, [])

    def test_connection_errors_are_retried_for_post_with_the_same_key(self) -> None:
        answers = [{"drop": True}, {"status": 201, "body": task("t")}]
        api, client = self.serve(lambda r: answers.pop(0))
        self.assertEqual(client.tasks.create(title="a", project_id="p")["id"], "t")
        self.assertEqual(api.received[0].headers["idempotency-key"], api.received[1].headers["idempotency-key"])

    def test_connection_errors_on_patch_are_raised_not_retried(self) -> None:
        api, client = self.serve(lambda r: {"drop": True})
        with self.assertRaises(VerkConnectionError):
            client.tasks.update("t", status="done")
        self.assertEqual(len(api.received), 1)

    def test_a_refused_connection_raises_after_the_retries(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        sleeps = []
        client = VerkClient(api_key="k", base_url=f"http://127.0.0.1:{port}", sleep=sleeps.append)
        with self.assertRaises(VerkConnectionError) as caught:
            client.tasks.list()
        self.assertEqual(caught.exception.code, "CONNECTION_ERROR")
        self.assertEqual(sleeps, [0.5, 1.0, 2.0])

    def test_a_slow_answer_times_out(self) -> None:
        import threading

        release = threading.Event()

        def respond(r):
            release.wait(5)
            return {"status": 200, "body": task("t")}

        api = FakeApi(respond)
        self.addCleanup(api.close)
        self.addCleanup(release.set)  # cleanups run last-in first-out: release before closing
        client = VerkClient(api_key="k", base_url=api.url, timeout=0.2, max_retries=0)
        with self.assertRaises(VerkConnectionError):
            client.tasks.get("t")


if __name__ == "__main__":
    unittest.main()
