import json
import os
import unittest
from datetime import datetime, timezone

from verk import WebhookVerificationError, verify_webhook

VECTORS = os.path.join(os.path.dirname(__file__), "..", "..", "vectors", "webhooks.json")


class SharedVectors(unittest.TestCase):
    """clients/vectors/webhooks.json: the same cases the TypeScript SDK and the Go client run."""

    def test_every_shared_case(self) -> None:
        with open(VECTORS, encoding="utf-8") as f:
            vectors = json.load(f)
        self.assertGreater(len(vectors["cases"]), 15)
        for case in vectors["cases"]:
            with self.subTest(case["name"]):
                body = case.get("body", vectors["body"])
                options = {}
                if case["nowMs"] is not None:
                    options["now"] = case["nowMs"] / 1000
                if "toleranceSeconds" in case:
                    options["tolerance_seconds"] = case["toleranceSeconds"]
                if "ok" in case["expect"]:
                    event = verify_webhook(body, case["headers"], case["secrets"], **options)
                    self.assertEqual(event["id"], case["expect"]["ok"]["id"])
                    self.assertEqual(event["event"], case["expect"]["ok"]["event"])
                    self.assertEqual(event["data"]["title"], case["expect"]["ok"]["dataTitle"])
                else:
                    with self.assertRaises(WebhookVerificationError) as caught:
                        verify_webhook(body, case["headers"], case["secrets"], **options)
                    self.assertEqual(caught.exception.code, case["expect"]["error"])

    def test_bytes_a_single_secret_and_snake_case_records(self) -> None:
        with open(VECTORS, encoding="utf-8") as f:
            vectors = json.load(f)
        case = vectors["cases"][0]
        event = verify_webhook(vectors["body"].encode("utf-8"), case["headers"], case["secrets"][0], now=case["nowMs"] / 1000)
        self.assertEqual(event["webhook_id"], "wh_vector00000000000001")
        self.assertEqual(event["delivery_id"], "del_vector0000000000001")
        self.assertEqual(event["actor"], {"user_id": "user_vector000000000001", "api_key_id": None})
        self.assertEqual(event["timestamp"], datetime(2026, 1, 1, tzinfo=timezone.utc))

    def test_the_current_clock_is_the_default(self) -> None:
        with open(VECTORS, encoding="utf-8") as f:
            vectors = json.load(f)
        case = vectors["cases"][0]  # signed in 2026-01-01: outside the tolerance of today's clock
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook(vectors["body"], case["headers"], case["secrets"])
        self.assertEqual(caught.exception.code, "TIMESTAMP_OUT_OF_TOLERANCE")


if __name__ == "__main__":
    unittest.main()
