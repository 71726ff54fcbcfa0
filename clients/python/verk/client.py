"""The Verk API, one attribute per resource (README "Python client")."""
from __future__ import annotations

import os
import urllib.parse
from typing import Any, Callable, Dict, Iterator, List, Optional

from ._convert import decode, encode_body, encode_query
from ._transport import Transport
from .models import OPERATIONS

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


def _crud(list_op: str, get_op: Optional[str], create_op: Optional[str], update_op: Optional[str], delete_op: Optional[str]):
    """A resource class with list / list_all / get / create / update / delete for top-level resources."""

    class Crud(_Resource):
        def list(self, **filters: Any) -> Page:
            """One page: a list of records; ``.next_cursor`` names the next one."""
            return self._page(list_op, None, filters)

        def list_all(self, **filters: Any) -> Iterator[Dict[str, Any]]:
            """Every record of every page, by cursor."""
            return self._every(list_op, None, filters)

        if get_op:

            def get(self, id: str) -> Dict[str, Any]:
                return self._call(get_op, {"id": id})

        if create_op:

            def create(self, **fields: Any) -> Dict[str, Any]:
                return self._call(create_op, body=fields)

        if update_op:

            def update(self, id: str, **fields: Any) -> Dict[str, Any]:
                return self._call(update_op, {"id": id}, body=fields)

        if delete_op:

            def delete(self, id: str) -> Any:
                return self._call(delete_op, {"id": id})

    return Crud


class Tasks(_crud("listTasks", "getTask", "createTask", "updateTask", "deleteTask")):
    """``create(title=..., project_id=...)``, ``list(status=..., completed_after=...)``, ``update(id, status=...)``."""


class Projects(_crud("listProjects", "getProject", "createProject", "updateProject", "deleteProject")):
    pass


class Users(_crud("listUsers", "getUser", "createUser", "updateUser", "deleteUser")):
    def me(self) -> Dict[str, Any]:
        """The member the API key belongs to."""
        return self._call("getCurrentUser")


class Events(_crud("listEvents", "getEvent", None, None, None)):
    pass


class Comments(_Resource):
    def list(self, task_id: str, **query: Any) -> Page:
        """One page of a task's comments."""
        return self._page("listComments", {"taskId": task_id}, query)

    def list_all(self, task_id: str, **query: Any) -> Iterator[Dict[str, Any]]:
        return self._every("listComments", {"taskId": task_id}, query)

    def get(self, id: str) -> Dict[str, Any]:
        return self._call("getComment", {"id": id})

    def create(self, task_id: str, **fields: Any) -> Dict[str, Any]:
        return self._call("createComment", {"taskId": task_id}, body=fields)

    def update(self, id: str, **fields: Any) -> Dict[str, Any]:
        return self._call("updateComment", {"id": id}, body=fields)

    def delete(self, id: str) -> Any:
        return self._call("deleteComment", {"id": id})


class ApiKeys(_crud("listApiKeys", None, "createApiKey", None, "revokeApiKey")):
    """``create`` answers the new key's secret, and only then."""

    def revoke(self, id: str) -> Any:
        return self.delete(id)

    def rotate(self, id: str, **fields: Any) -> Dict[str, Any]:
        """A new secret; the old one keeps working for ``grace_period_seconds``."""
        return self._call("rotateApiKey", {"id": id}, body=fields)


class Deliveries(_Resource):
    def list(self, webhook_id: str, **query: Any) -> Page:
        return self._page("listWebhookDeliveries", {"id": webhook_id}, query)

    def list_all(self, webhook_id: str, **query: Any) -> Iterator[Dict[str, Any]]:
        return self._every("listWebhookDeliveries", {"id": webhook_id}, query)

    def get(self, webhook_id: str, delivery_id: str) -> Dict[str, Any]:
        return self._call("getWebhookDelivery", {"id": webhook_id, "deliveryId": delivery_id})

    def redeliver(self, webhook_id: str, delivery_id: str) -> Dict[str, Any]:
        return self._call("redeliverWebhookDelivery", {"id": webhook_id, "deliveryId": delivery_id})


class Webhooks(_crud("listWebhooks", "getWebhook", "createWebhook", "updateWebhook", "deleteWebhook")):
    """``create`` answers the signing secret, and only then."""

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self.deliveries = Deliveries(transport)

    def rotate_secret(self, id: str, **fields: Any) -> Dict[str, Any]:
        """A new secret (shown once); the old one keeps signing during the grace period."""
        return self._call("rotateWebhookSecret", {"id": id}, body=fields)

    def test(self, id: str, **fields: Any) -> Dict[str, Any]:
        """Sends a signed sample now and reports the receiver's answer."""
        return self._call("sendWebhookTest", {"id": id}, body=fields)


class IncomingWebhooks(
    _crud("listIncomingWebhooks", "getIncomingWebhook", "createIncomingWebhook", "updateIncomingWebhook", "deleteIncomingWebhook")
):
    """Credentials for the incoming-webhook intake; ``create`` and ``rotate`` answer the key, and only then."""

    def rotate(self, id: str) -> Dict[str, Any]:
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
        self.users = Users(transport)
        #: The same as ``users``: the organization's members.
        self.members = self.users
        self.api_keys = ApiKeys(transport)
        self.webhooks = Webhooks(transport)
        self.events = Events(transport)
        self.incoming_webhooks = IncomingWebhooks(transport)
