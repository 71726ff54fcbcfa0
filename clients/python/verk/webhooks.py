"""Checking that a request is a delivery from Verk (README "Webhooks (outgoing)")."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any, Iterable, List, Mapping, Optional, Union

from ._convert import decode
from .errors import WebhookVerificationError
from .models import WebhookEvent

#: A ``whsec_`` secret whose rest is valid base64 (as the server reads it).
_STANDARD_SECRET = re.compile(r"^whsec_((?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$")
_TIMESTAMP = re.compile(r"^\d{1,12}$")


def verify_webhook(
    raw_body: Union[str, bytes],
    headers: Any,
    secret: Union[str, Iterable[str]],
    *,
    tolerance_seconds: float = 300,
    now: Optional[float] = None,
) -> WebhookEvent:
    """Checks that a request is a delivery from Verk signed with ``secret`` and returns its event.

    Pass the raw body exactly as received (Flask: ``request.get_data()``), before any JSON
    parsing, and the request's headers (any mapping; names are matched case-insensitively).
    With the Standard Webhooks headers (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``, which every delivery carries), the timestamp must be within
    ``tolerance_seconds`` of ``now`` (unix seconds) and one of the space-separated ``v1,``
    signatures must match: during a secret rotation there are two, so either secret
    verifies. Without them, ``X-Verk-Signature`` (``sha256=<hex>``) must match. Several
    secrets may be given (the old and the new one while you roll a rotation out). Every
    comparison is constant-time. Raises ``WebhookVerificationError`` otherwise.
    """
    body = raw_body if isinstance(raw_body, bytes) else raw_body.encode("utf-8")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or any(s == "" for s in secrets):
        raise WebhookVerificationError("MISSING_SIGNATURE", "No webhook secret to verify with")
    lowered = _lower(headers)
    webhook_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    standard = lowered.get("webhook-signature")
    verk = lowered.get("x-verk-signature")

    if webhook_id is not None and timestamp is not None and standard is not None:
        if not _TIMESTAMP.match(timestamp):
            raise WebhookVerificationError("INVALID_TIMESTAMP", "webhook-timestamp is not unix seconds")
        clock = time.time() if now is None else now
        if abs(clock - int(timestamp)) > tolerance_seconds:
            raise WebhookVerificationError("TIMESTAMP_OUT_OF_TOLERANCE", "webhook-timestamp is too old or too new")
        given = [s for s in standard.split(" ") if s.startswith("v1,")]
        signed = f"{webhook_id}.{timestamp}.".encode("utf-8") + body
        expected = [_standard_signature(s, signed) for s in secrets]
        if not _any_match(given, expected):
            raise WebhookVerificationError("INVALID_SIGNATURE", "No webhook-signature matches the secret")
    elif verk is not None:
        expected = ["sha256=" + hmac.new(s.encode("utf-8"), body, hashlib.sha256).hexdigest() for s in secrets]
        if not _any_match([verk.strip()], expected):
            raise WebhookVerificationError("INVALID_SIGNATURE", "X-Verk-Signature does not match the secret")
    else:
        raise WebhookVerificationError("MISSING_SIGNATURE", "Neither webhook-signature nor X-Verk-Signature is present")

    try:
        event = json.loads(body.decode("utf-8"))
    except ValueError as error:
        raise WebhookVerificationError("INVALID_PAYLOAD", "The body is not JSON") from error
    return decode(event)


def _lower(headers: Any) -> Mapping[str, str]:
    items = headers.items() if hasattr(headers, "items") else headers
    out = {}
    for key, value in items:
        name = key.lower()
        if isinstance(value, (list, tuple)):
            value = ", ".join(value)
        # Werkzeug's EnvironHeaders and http.client's messages may repeat a name; keep the first.
        out.setdefault(name, value)
    return out


def _standard_signature(secret: str, signed: bytes) -> str:
    """``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``; a ``whsec_<base64>`` secret keys with its decoded bytes."""
    match = _STANDARD_SECRET.match(secret)
    key = secret.encode("utf-8")
    if match:
        try:
            key = base64.b64decode(match.group(1), validate=True)
        except binascii.Error:
            pass
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def _any_match(given: List[str], expected: List[str]) -> bool:
    """Whether any given signature equals any expected one; every pair is compared, each in constant time."""
    found = False
    for g in given:
        for e in expected:
            found = hmac.compare_digest(g.encode("utf-8"), e.encode("utf-8")) or found
    return found
