"""snake_case <-> the API's camelCase, and date-times, driven by the generated tables."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Dict, Mapping

from .models import BODY_FIELDS, DATETIME_FIELDS, QUERY_PARAMS

_CAPITAL = re.compile(r"([a-z0-9])([A-Z])")


def snake(name: str) -> str:
    return _CAPITAL.sub(r"\1_\2", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def parse_datetime(value: str) -> Any:
    """An RFC 3339 date-time as an aware datetime; any other text as it is."""
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def decode(value: Any, key: str = "") -> Any:
    """The API's JSON as records: snake_case keys at every depth, date-time fields as datetimes."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            name = snake(k)
            out[name] = decode(v, name)
        return out
    if isinstance(value, list):
        return [decode(v, key) for v in value]
    if isinstance(value, str) and key in DATETIME_FIELDS:
        return parse_datetime(value)
    return value


def _wire_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {camel(k): _wire_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire_value(v) for v in value]
    return value


def encode_body(schema: str, fields: Mapping[str, Any]) -> Dict[str, Any]:
    """Keyword arguments as the API's JSON body; an argument the schema does not name is a TypeError."""
    names = BODY_FIELDS[schema]
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise TypeError(f"{schema} has no field {', '.join(unknown)} (it takes {', '.join(sorted(names))})")
    return {names[k]: _wire_value(v) for k, v in fields.items()}


def encode_query(operation: str, params: Mapping[str, Any]) -> Dict[str, str]:
    """Keyword arguments as query parameters; None is left out, booleans are true/false."""
    names = QUERY_PARAMS.get(operation, {})
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise TypeError(f"{operation} has no filter {', '.join(unknown)} (it takes {', '.join(sorted(names))})")
    query = {}
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        query[names[k]] = str(_wire_value(v))
    return query
