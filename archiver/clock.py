"""Time as the archive writes it (UTC ISO-8601 with a Z) and the interval and cron notations of the settings."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def utcnow() -> str:
    """Now in UTC, ISO-8601 with a Z."""
    return format_utc(datetime.now(timezone.utc))


def utcnow_ms() -> str:
    """Now in UTC, ISO-8601 with milliseconds and a Z: when a request started."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_utc(t: datetime) -> str:
    """A moment as the archive writes times: ISO-8601 in UTC, to the second, with a Z."""
    return t.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    """A time the archive wrote (ISO-8601 with a Z) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_interval(text: str) -> int:
    """'90s', '15m', '1h', '1d', '2w' -> seconds."""
    text = str(text).strip().lower()
    if text[:-1].isdigit() and text[-1] in _UNITS:
        return int(text[:-1]) * _UNITS[text[-1]]
    if text.isdigit():
        return int(text)
    raise ValueError(f"not an interval: {text!r} (use e.g. 30m, 1h, 1d, 7d)")


def parse_cron(expr: str) -> CronTrigger:
    """A crontab line (5 fields), or 6 fields with seconds first, as an APScheduler trigger in UTC."""
    from apscheduler.triggers.cron import CronTrigger  # here: only settings with schedules pay for it

    if not isinstance(expr, str):
        raise TypeError("a cron expression is text, e.g. '*/5 * * * *'")
    parts = expr.split()
    if len(parts) == 5:
        return CronTrigger.from_crontab(expr, timezone="UTC")
    if len(parts) == 6:
        second, minute, hour, day, month, dow = parts
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=dow,
                           timezone="UTC")
    raise ValueError(f"expected 5 fields (minute hour day month weekday) or 6 (seconds first), got {len(parts)}")
