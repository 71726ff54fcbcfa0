"""A real HTTP server on 127.0.0.1 that answers from a script, for the client's unit tests."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qsl, urlsplit


class Received:
    def __init__(self, method: str, path: str, query: Dict[str, str], headers: Dict[str, str], body: str) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


Answer = Dict[str, Any]  # {"status", "body"?, "headers"?} or {"drop": True} to close the connection unanswered


class FakeApi:
    def __init__(self, respond: Callable[[Received], Answer]) -> None:
        self.received: List[Received] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                url = urlsplit(self.path)
                request = Received(
                    self.command,
                    url.path,
                    dict(parse_qsl(url.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                fake.received.append(request)
                answer = respond(request)
                if answer.get("drop"):
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                payload = b"" if answer.get("body") is None else json.dumps(answer["body"]).encode("utf-8")
                self.send_response(answer["status"])
                for name, value in (answer.get("headers") or {}).items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                try:
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    return
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def task(id: str, **overrides: Any) -> Dict[str, Any]:
    record = {
        "id": id,
        "title": "A task",
        "description": None,
        "status": "todo",
        "priority": "medium",
        "projectId": "proj_123",
        "assigneeId": None,
        "dueDate": None,
        "tags": [],
        "createdBy": "user_1",
        "createdAt": "2026-01-15T14:30:00.000Z",
        "updatedAt": "2026-01-15T14:30:00.000Z",
        "completedAt": None,
    }
    record.update(overrides)
    return record


def error(status: int, code: str, message: str = "refused", field: Optional[str] = None, headers: Optional[Dict[str, str]] = None) -> Answer:
    body: Dict[str, Any] = {"error": {"code": code, "message": message, "requestId": "req_test"}}
    if field:
        body["error"]["field"] = field
    return {"status": status, "body": body, "headers": headers or {}}
