"""Lenient readers of tweet-result JSON values: nested keys, strings, ints, booleans, lists, timestamps."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any


def iso_from_twitter(value: Any) -> str | None:
    """ISO-8601 UTC from an ISO timestamp or a v1.1 'Wed Oct 10 20:19:24 +0000 2018' date."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    for parse in (
        lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
        lambda v: datetime.strptime(v, "%a %b %d %H:%M:%S %z %Y"),  # API v1.1 style
    ):
        try:
            dt = parse(value)
        except ValueError:
            continue
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return _iso(dt)
    return None


def iso_from_millis(ms: int | None) -> str | None:
    """ISO-8601 UTC from milliseconds since the epoch; None when out of range."""
    if ms is None:
        return None
    try:
        return _iso(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))
    except (OverflowError, OSError, ValueError):
        return None


def _iso(dt: datetime) -> str:
    dt = dt.astimezone(timezone.utc)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def dig(data: Any, *keys: str) -> Any:
    """The value under data[k1][k2]...; None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def as_list(value: Any) -> list:
    """The value if it is a list, else an empty list."""
    # emusks' doc renders empty entity lists as {}; treat any non-list as empty.
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """A non-empty string, or an int as its decimal string; None for anything else (booleans too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value != "" else None


def as_int(value: Any) -> int | None:
    """An int, an integral float or a decimal string as int; None for anything else (booleans too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,20}\s*", value):
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    """The value if it is a boolean, else None."""
    return value if isinstance(value, bool) else None


def as_indices(e: dict) -> tuple[int, ...]:
    """The integer `indices` of an entity object."""
    return tuple(i for i in as_list(e.get("indices")) if isinstance(i, int) and not isinstance(i, bool))
