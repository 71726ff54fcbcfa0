"""The Verk API, one attribute per resource (README "Python client")."""
from __future__ import annotations

import os
import urllib.parse
from typing import Any, Callable, Dict, Iterator, List, Optional

from ._convert import decode, encode_body, encode_query
from ._transport import Transport
from .models import (
    OPERATIONS,
    ApiKey,
    Attachment,
    Comment,
    CreatedApiKey,
    CreatedIncomingWebhook,
    Delivery,
    DeliveryDetail,
    Event,
    IncomingWebhook,
    Project,
    RotatedApiKey,
    Task,
    User,
    Webhook,
    WebhookRecovery,
    WebhookTestResult,
    WebhookWithSecret,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8787"


class Page(list):
    """One page of a list: a list of records (so ``pandas.DataFrame(page)`` works), plus
    ``pagination`` and ``next_cursor`` (None on the last page)."""

    def __init__(self, data: List[Dict[str, Any]], pagination: Dict[str, Any]) -> None:
        super().__init__(data)
        self.pagination = pagination
        self.next_cursor: Optional[str] = pagination.get("next_cursor")


class _Resource:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _call(self, operation: str, path_params: Optional[Dict[str, str]] = None, query: Any = None, body: Any = None) -> Any:
        method, path, body_schema = OPERATIONS[operation]
        for name, value in (path_params or {}).items():
            if not isinstance(value, str) or value == "":
                raise TypeError(f"{operation}: {name} must be a non-empty string, got {value!r}")
            path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
        wire_query = encode_query(operation, query) if query else None
        wire_body = encode_body(body_schema, body) if body_schema is not None else None
        return decode(self._transport.request(method, path, wire_query, wire_body))

    def _page(self, operation: str, path_params: Optional[Dict[str, str]], query: Dict[str, Any]) -> Page:
        answer = self._call(operation, path_params, query)
        return Page(answer["data"], answer["pagination"])

    def _every(self, operation: str, path_params: Optional[Dict[str, str]], query: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        """Every item of every page, fetching the next page only when the loop reaches it."""
        query = dict(query)
        while True:
            page = self._page(operation, path_params, query)
            yield from page
            if not page.next_cursor:
                return
            query.pop("page", None)
            query["cursor"] = page.next_cursor


class Tasks(_Resource):
    """``create(title=..., project_id=...)``, ``list(status=..., completed_after=...)``, ``update(id, status=...)``."""

    def list(self, **filters: Any) -> Page:
        """One page of tasks: a list of records; ``.next_cursor`` names the next page."""
        return self._page("listTasks", None, filters)

    def list_all(self, **filters: Any) -> Iterator[Task]:
        """Every task matching the filters, page after page by cursor."""
        return self._every("listTasks", None, filters)

    def get(self, id: str) -> Task:
        return self._call("getTask", {"id": id})

    def create(self, **fields: Any) -> Task:
        return self._call("createTask", body=fields)

    def update(self, id: str, **fields: Any) -> Task:
        return self._call("updateTask", {"id": id}, body=fields)

    def delete(self, id: str) -> Any:
        return self._call("deleteTask", {"id": id})


class Projects(_Resource):
    def list(self, **filters: Any) -> Page:
        return self._page("listProjects", None, filters)

    def list_all(self, **filters: Any) -> Iterator[Project]:
        return self._every("listProjects", None, filters)

    def get(self, id: str) -> Project:
        return self._call("getProject", {"id": id})

    def create(self, **fields: Any) -> Project:
        return self._call("createProject", body=fields)

    def update(self, id: str, **fields: Any) -> Project:
        return self._call("updateProject", {"id": id}, body=fields)

    def delete(self, id: str) -> Any:
        return self._call("deleteProject", {"id": id})


class Comments(_Resource):
    def list(self, task_id: str, **query: Any) -> Page:
        """One page of a task's comments."""
        return self._page("listComments", {"taskId": task_id}, query)

    def list_all(self, task_id: str, **query: Any) -> Iterator[Comment]:
        return self._every("listComments", {"taskId": task_id}, query)

    def get(self, id: str) -> Comment:
        return self._call("getComment", {"id": id})

    def create(self, task_id: str, **fields: Any) -> Comment:
        return self._call("createComment", {"taskId": task_id}, body=fields)

    def update(self, id: str, **fields: Any) -> Comment:
        return self._call("updateComment", {"id": id}, body=fields)

    def delete(self, id: str) -> Any:
        return self._call("deleteComment", {"id": id})


class Attachments(_Resource):
    def list(self, task_id: str, **query: Any) -> Page:
        """One page of a task's attachments."""
        return self._page("listAttachments", {"taskId": task_id}, query)

    def list_all(self, task_id: str, **query: Any) -> Iterator[Attachment]:
        return self._every("listAttachments", {"taskId": task_id}, query)

    def get(self, id: str) -> Attachment:
        return self._call("getAttachment", {"id": id})

    def upload(self, task_id: str, data: Any, filename: str, content_type: str = "application/octet-stream") -> Attachment:
        """Attaches a file: ``data`` is bytes or a binary file object (read as it is sent).
        Sent once: the API takes no Idempotency-Key for uploads."""
        path = "/v1/tasks/" + urllib.parse.quote(task_id, safe="") + "/attachments"
        return decode(self._transport.send_file(path, {"filename": filename}, data, content_type))

    def download(self, id: str) -> bytes:
        """The file's bytes."""
        path = "/v1/attachments/" + urllib.parse.quote(id, safe="") + "/content"
        return self._transport.fetch_bytes(path)[0]

    def delete(self, id: str) -> Any:
        return self._call("deleteAttachment", {"id": id})


class Users(_Resource):
    """The organization's members."""

    def list(self, **filters: Any) -> Page:
        return self._page("listUsers", None, filters)

    def list_all(self, **filters: Any) -> Iterator[User]:
        return self._every("listUsers", None, filters)

    def me(self) -> User:
        """The member the API key belongs to."""
        return self._call("getCurrentUser")

    def get(self, id: str) -> User:
        return self._call("getUser", {"id": id})

    def create(self, **fields: Any) -> User:
        return self._call("createUser", body=fields)

    def update(self, id: str, **fields: Any) -> User:
        return self._call("updateUser", {"id": id}, body=fields)

    def delete(self, id: str) -> Any:
        return self._call("deleteUser", {"id": id})


class ApiKeys(_Resource):
    """``create`` and ``rotate`` answer the key's secret, and only then."""

    def list(self, **filters: Any) -> Page:
        return self._page("listApiKeys", None, filters)

    def list_all(self, **filters: Any) -> Iterator[ApiKey]:
        return self._every("listApiKeys", None, filters)

    def create(self, **fields: Any) -> CreatedApiKey:
        return self._call("createApiKey", body=fields)

    def revoke(self, id: str) -> Any:
        return self._call("revokeApiKey", {"id": id})

    def delete(self, id: str) -> Any:
        """The same as ``revoke``."""
        return self.revoke(id)

    def rotate(self, id: str, **fields: Any) -> RotatedApiKey:
        """A new secret; the old one keeps working for ``grace_period_seconds``."""
        return self._call("rotateApiKey", {"id": id}, body=fields)


class Deliveries(_Resource):
    """A webhook's delivery log."""

    def list(self, webhook_id: str, **query: Any) -> Page:
        return self._page("listWebhookDeliveries", {"id": webhook_id}, query)

    def list_all(self, webhook_id: str, **query: Any) -> Iterator[Delivery]:
        return self._every("listWebhookDeliveries", {"id": webhook_id}, query)

    def get(self, webhook_id: str, delivery_id: str) -> DeliveryDetail:
        return self._call("getWebhookDelivery", {"id": webhook_id, "deliveryId": delivery_id})

    def redeliver(self, webhook_id: str, delivery_id: str) -> Delivery:
        return self._call("redeliverWebhookDelivery", {"id": webhook_id, "deliveryId": delivery_id})


class Webhooks(_Resource):
    """``create`` and ``rotate_secret`` answer the signing secret, and only then."""

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self.deliveries = Deliveries(transport)

    def list(self, **filters: Any) -> Page:
        return self._page("listWebhooks", None, filters)

    def list_all(self, **filters: Any) -> Iterator[Webhook]:
        return self._every("listWebhooks", None, filters)

    def get(self, id: str) -> Webhook:
        return self._call("getWebhook", {"id": id})

    def create(self, **fields: Any) -> WebhookWithSecret:
        return self._call("createWebhook", body=fields)

    def update(self, id: str, **fields: Any) -> Webhook:
        return self._call("updateWebhook", {"id": id}, body=fields)

    def delete(self, id: str) -> Any:
        return self._call("deleteWebhook", {"id": id})

    def rotate_secret(self, id: str, **fields: Any) -> WebhookWithSecret:
        """A new secret (shown once); the old one keeps signing during the grace period."""
        return self._call("rotateWebhookSecret", {"id": id}, body=fields)

    def test(self, id: str, **fields: Any) -> WebhookTestResult:
        """Sends a signed sample now and reports the receiver's answer."""
        return self._call("sendWebhookTest", {"id": id}, body=fields)

    def recover(self, id: str, **fields: Any) -> WebhookRecovery:
        """Re-sends every delivery that ended failed in the window (``since``, optional ``until``)."""
        return self._call("recoverWebhookDeliveries", {"id": id}, body=fields)


class Events(_Resource):
    """The event log."""

    def list(self, **filters: Any) -> Page:
        return self._page("listEvents", None, filters)

    def list_all(self, **filters: Any) -> Iterator[Event]:
        return self._every("listEvents", None, filters)

    def get(self, id: str) -> Event:
        return self._call("getEvent", {"id": id})


class IncomingWebhooks(_Resource):
    """Credentials for the incoming-webhook intake; ``create`` and ``rotate`` answer the key, and only then."""

    def list(self, **filters: Any) -> Page:
        return self._page("listIncomingWebhooks", None, filters)

    def list_all(self, **filters: Any) -> Iterator[IncomingWebhook]:
        return self._every("listIncomingWebhooks", None, filters)

    def get(self, id: str) -> IncomingWebhook:
        return self._call("getIncomingWebhook", {"id": id})

    def create(self, **fields: Any) -> CreatedIncomingWebhook:
        return self._call("createIncomingWebhook", body=fields)

    def update(self, id: str, **fields: Any) -> IncomingWebhook:
        return self._call("updateIncomingWebhook", {"id": id}, body=fields)

    def delete(self, id: str) -> Any:
        return self._call("deleteIncomingWebhook", {"id": id})

    def rotate(self, id: str) -> CreatedIncomingWebhook:
        return self._call("rotateIncomingWebhookKey", {"id": id})


class VerkClient:
    """The Verk API.

    ``api_key`` and ``base_url`` default to the ``VERK_API_KEY`` and ``VERK_BASE_URL``
    environment variables (the base URL to ``http://127.0.0.1:8787``, ``npm run dev``; a
    trailing ``/v1`` is accepted). Every non-2xx answer raises ``VerkError``.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_delay: float = 60.0,
        backoff: float = 0.5,
        idempotency_key: Optional[Callable[[], str]] = None,
        sleep: Optional[Callable[[float], None]] = None,
    ) -> None:
        api_key = api_key or os.environ.get("VERK_API_KEY")
        if not api_key:
            raise ValueError("VerkClient: api_key is required (an API key, vk_live_...), or set VERK_API_KEY")
        base = (base_url or os.environ.get("VERK_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if base.endswith("/v1"):
            base = base[: -len("/v1")]
        extra = {"sleep": sleep} if sleep is not None else {}
        transport = Transport(
            api_key,
            base,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_delay=max_retry_delay,
            backoff=backoff,
            idempotency_key=idempotency_key,
            **extra,
        )
        self.tasks = Tasks(transport)
        self.projects = Projects(transport)
        self.comments = Comments(transport)
        self.attachments = Attachments(transport)
        self.users = Users(transport)
        #: The same as ``users``: the organization's members.
        self.members = self.users
        self.api_keys = ApiKeys(transport)
        self.webhooks = Webhooks(transport)
        self.events = Events(transport)
        self.incoming_webhooks = IncomingWebhooks(transport)
