"""The client against a real `wrangler dev` and a real webhook receiver.

Run by scripts/e2e-clients.mjs (`npm run e2e`), which starts both and sets VERK_E2E,
VERK_BASE_URL, VERK_API_KEY (an enterprise organization's admin key), VERK_FREE_API_KEY
(a free organization's: 20 requests a minute) and VERK_RECEIVER_URL. Skipped otherwise.
"""
import json
import os
import time
import unittest
import urllib.request
from datetime import datetime, timedelta, timezone

from verk import VerkClient, VerkError, WebhookVerificationError, verify_webhook


def received(name):
    with urllib.request.urlopen(f"{os.environ['VERK_RECEIVER_URL']}/control/{name}") as answer:
        return json.load(answer)


def wait_for(probe, what, timeout=25.0):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@unittest.skipUnless(os.environ.get("VERK_E2E"), "needs scripts/e2e-clients.mjs (npm run e2e)")
class EndToEnd(unittest.TestCase):
    def test_a_project_tasks_lists_webhooks_and_the_rate_limit(self) -> None:
        client = VerkClient()  # VERK_API_KEY and VERK_BASE_URL
        project = client.projects.create(name="Python e2e", color="#3b82f6")
        webhook = client.webhooks.create(
            url=f"{os.environ['VERK_RECEIVER_URL']}/hook/python", events=["task.created", "task.completed"]
        )
        self.assertTrue(webhook["secret"].startswith("whsec_"))

        tasks = [client.tasks.create(title=f"Py {i}", project_id=project["id"], tags=["e2e"]) for i in range(1, 6)]
        done = client.tasks.update(tasks[0]["id"], status="done")
        self.assertEqual(done["status"], "done")
        self.assertIsInstance(done["completed_at"], datetime)

        # Filters, one page, and every page by cursor.
        first = client.tasks.list(project_id=project["id"], status="todo", limit=2)
        self.assertEqual(len(first), 2)
        self.assertIsNotNone(first.next_cursor)
        titles = [t["title"] for t in client.tasks.list_all(project_id=project["id"], status="todo", limit=2, order="asc")]
        self.assertEqual(titles, ["Py 2", "Py 3", "Py 4", "Py 5"])
        yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date()
        completed = client.tasks.list(status="done", completed_after=yesterday, project_id=project["id"])
        self.assertEqual([t["id"] for t in completed], [tasks[0]["id"]])

        # Delete, then typed errors.
        client.tasks.delete(tasks[4]["id"])
        with self.assertRaises(VerkError) as gone:
            client.tasks.get(tasks[4]["id"])
        self.assertEqual((gone.exception.status, gone.exception.code), (404, "NOT_FOUND"))
        self.assertTrue(gone.exception.request_id)
        with self.assertRaises(VerkError) as invalid:
            client.tasks.create(title="", project_id=project["id"])
        self.assertEqual((invalid.exception.status, invalid.exception.code, invalid.exception.field), (400, "VALIDATION_ERROR", "title"))

        # A repeated Idempotency-Key replays the first create.
        fixed = VerkClient(idempotency_key=lambda: "python-e2e-key-1")
        once = fixed.tasks.create(title="Once", project_id=project["id"])
        self.assertEqual(fixed.tasks.create(title="Once", project_id=project["id"])["id"], once["id"])

        # Real deliveries, verified.
        deliveries = wait_for(lambda: (lambda got: got if len(got) >= 7 else None)(received("python")), "7 deliveries")
        events = [verify_webhook(d["body"], d["headers"], webhook["secret"]) for d in deliveries]
        created = {e["data"]["id"] for e in events if e["event"] == "task.created"}
        self.assertTrue({t["id"] for t in tasks} <= created)
        completed_event = next(e for e in events if e["event"] == "task.completed")
        self.assertEqual(completed_event["data"]["id"], tasks[0]["id"])
        self.assertIsInstance(completed_event["timestamp"], datetime)
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(deliveries[0]["body"], deliveries[0]["headers"], "whsec_bm90LXRoZS1zZWNyZXQ=")

        # A free organization: 20 requests a minute. Spend them, see the 429, then let the
        # client wait as long as Retry-After says and succeed. Up to 41 tries: the window
        # resets on the minute, and a run that straddles it still spends 21 in one window.
        strict = VerkClient(api_key=os.environ["VERK_FREE_API_KEY"], max_retries=0)
        limited = None
        for _ in range(41):
            try:
                strict.users.me()
            except VerkError as error:
                limited = error
                break
        self.assertIsNotNone(limited, "20 requests a minute should end in a 429")
        self.assertEqual((limited.status, limited.code), (429, "RATE_LIMITED"))
        self.assertGreater(limited.retry_after, 0)
        waits = []

        def sleep(seconds):
            waits.append(seconds)
            time.sleep(seconds)

        patient = VerkClient(api_key=os.environ["VERK_FREE_API_KEY"], sleep=sleep)
        self.assertTrue(patient.users.me()["id"])
        self.assertGreaterEqual(len(waits), 1)
        self.assertLessEqual(waits[0], 60)


if __name__ == "__main__":
    unittest.main()
