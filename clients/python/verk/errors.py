"""The errors the client raises."""
from __future__ import annotations

from typing import Any, Mapping, Optional


class VerkError(Exception):
    """Any answer other than 2xx: ``{"error": {"code", "message", "field"?, "requestId"}}``.

    ``code`` is ``UNKNOWN_ERROR`` only when the body was not the API's (a proxy's page, say).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: Optional[str] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.request_id = request_id
        #: Seconds the API asked to wait (``Retry-After``), on 429 and on an Idempotency-Key still in progress.
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.status} {self.code}: {self.message}{where} [request {self.request_id}]"

    @classmethod
    def from_response(cls, status: int, headers: Mapping[str, str], body: Any) -> "VerkError":
        error = body.get("error") if isinstance(body, dict) else None
        if not (isinstance(error, dict) and isinstance(error.get("code"), str)):
            error = {}
        return cls(
            status=status,
            code=error.get("code", "UNKNOWN_ERROR"),
            message=error.get("message", f"HTTP {status}"),
            field=error.get("field"),
            request_id=error.get("requestId") or headers.get("x-request-id"),
            retry_after=parse_retry_after(headers.get("retry-after")),
        )


class VerkConnectionError(VerkError):
    """The API could not be reached (connection refused or reset, DNS, timeout) after the retries."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(status=0, code="CONNECTION_ERROR", message=message)
        self.__cause__ = cause


class WebhookVerificationError(Exception):
    """Raised by ``verify_webhook``: the request is not a delivery from Verk signed with your secret.

    ``code`` is one of MISSING_SIGNATURE, INVALID_SIGNATURE, TIMESTAMP_OUT_OF_TOLERANCE,
    INVALID_TIMESTAMP, INVALID_PAYLOAD.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """``Retry-After`` in seconds from now: delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    import email.utils
    import time

    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
