"""Every request goes through here: the key, an Idempotency-Key on every POST (the same on
that call's retries, so a retried create never creates twice), bounded retries that wait
as long as ``Retry-After`` says, and a timeout per attempt."""
from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from .errors import VerkConnectionError, VerkError, parse_retry_after

VERSION = "0.1.0"
NETWORK_ERRORS = (urllib.error.URLError, socket.timeout, ConnectionError, http.client.HTTPException, OSError)


class Transport:
    def __init__(
        self,
        api_key: str,
        base_url: str,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_delay: float = 60.0,
        backoff: float = 0.5,
        idempotency_key: Optional[Callable[[], str]] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_delay = max_retry_delay
        self.backoff = backoff
        self.new_idempotency_key = idempotency_key or (lambda: str(uuid.uuid4()))
        self.sleep = sleep
        self._opener = urllib.request.build_opener()

    def request(
        self,
        method: str,
        path: str,
        query: Optional[Mapping[str, str]] = None,
        body: Optional[Any] = None,
    ) -> Any:
        """The answer's parsed JSON (None when it has no body); VerkError for any non-2xx answer."""
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"verk-python/{VERSION}",
        }
        data = None
        if body is not None or method == "POST":
            data = json.dumps(body if body is not None else {}).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if method == "POST":
            headers["Idempotency-Key"] = self.new_idempotency_key()
        # Repeating a GET, or a POST under the same Idempotency-Key, cannot apply a change twice.
        repeatable = method == "GET" or "Idempotency-Key" in headers

        retry = 0
        while True:
            backoff = self.backoff * (2**retry)
            try:
                status, answer_headers, raw = self._send(method, url, headers, data)
            except NETWORK_ERRORS as error:
                if not repeatable or retry >= self.max_retries:
                    raise VerkConnectionError(f"{method} {path}: {error}", error) from error
                self.sleep(min(backoff, self.max_retry_delay))
                retry += 1
                continue
            if 200 <= status < 300:
                return json.loads(raw) if raw else None
            if retry < self.max_retries and self._retryable(status, answer_headers, headers, repeatable):
                delay = parse_retry_after(answer_headers.get("retry-after"))
                delay = backoff if delay is None else delay
                if delay <= self.max_retry_delay:
                    self.sleep(delay)
                    retry += 1
                    continue
            raise _api_error(status, answer_headers, raw)

    def send_file(self, path: str, query: Mapping[str, str], data: Any, content_type: str) -> Any:
        """POSTs a file's bytes (``bytes`` or a binary file object, streamed by urllib) once:
        the upload route takes no Idempotency-Key, so only a 429 (refused before it ran) is
        retried, and only when ``data`` is bytes that can be sent again."""
        url = self.base_url + path + "?" + urllib.parse.urlencode(query)
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"verk-python/{VERSION}",
            "Content-Type": content_type,
        }
        retry = 0
        while True:
            try:
                status, answer_headers, raw = self._send("POST", url, headers, data)
            except NETWORK_ERRORS as error:
                raise VerkConnectionError(f"POST {path}: {error}", error) from error
            if 200 <= status < 300:
                return json.loads(raw) if raw else None
            delay = parse_retry_after(answer_headers.get("retry-after"))
            if status == 429 and isinstance(data, bytes) and retry < self.max_retries and delay is not None:
                if delay <= self.max_retry_delay:
                    self.sleep(delay)
                    retry += 1
                    continue
            raise _api_error(status, answer_headers, raw)

    def fetch_bytes(self, path: str) -> Tuple[bytes, Dict[str, str]]:
        """A GET whose answer is bytes, not JSON (an attachment's content), with the answer's headers."""
        headers = {"Authorization": f"Bearer {self.api_key}", "User-Agent": f"verk-python/{VERSION}"}
        try:
            status, answer_headers, raw = self._send("GET", self.base_url + path, headers, None)
        except NETWORK_ERRORS as error:
            raise VerkConnectionError(f"GET {path}: {error}", error) from error
        if 200 <= status < 300:
            return raw, answer_headers
        raise _api_error(status, answer_headers, raw)

    @staticmethod
    def _retryable(status: int, answer: Mapping[str, str], sent: Mapping[str, str], repeatable: bool) -> bool:
        if status == 429:
            return True  # refused before it ran
        if status == 409:
            # The same Idempotency-Key's first request is still running.
            return "Idempotency-Key" in sent and "retry-after" in answer
        return status >= 500 and repeatable

    def _send(self, method: str, url: str, headers: Dict[str, str], data: Any) -> Tuple[int, Dict[str, str], bytes]:
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _lower(error.headers), error.read()


def _api_error(status: int, answer_headers: Mapping[str, str], raw: bytes) -> VerkError:
    """The VerkError of a refused request, from its error body when that is JSON."""
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return VerkError.from_response(status, answer_headers, parsed)


def _lower(headers: Any) -> Dict[str, str]:
    return {k.lower(): v for k, v in headers.items()} if headers is not None else {}
