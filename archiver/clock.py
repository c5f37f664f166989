"""Time as the archive writes it (UTC ISO-8601 with a Z) and the interval and cron notations of the settings."""
from __future__ import annotations

import email.utils
import re
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


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_published(text: str | None) -> str | None:
    """A publication date as pages write it, in ISO 8601: UTC with a Z when it names a time and a zone,
    the date alone when it has no time; None when it is not a date.

    "2022-05-04T00:25:56+02:00" -> "2022-05-03T22:25:56Z"; "Wed, 04 May 2022 00:25:56 GMT" ->
    "2022-05-04T00:25:56Z"; "2022-05-04" -> "2022-05-04"; "May 4, 2022" -> "2022-05-04". A time with no
    zone keeps no Z (the page did not say which zone it meant).
    """
    if not isinstance(text, str) or not text.strip() or len(text) > 100:
        return None
    value = text.strip()
    if _DATE_ONLY.match(value):
        try:
            return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
        except ValueError:
            return None
    when = None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
    if when is None:
        return _named_date(value)
    if ":" not in value:  # "20220504": a date, written without its dashes
        return when.date().isoformat()
    if when.tzinfo is None:
        return when.replace(microsecond=0).isoformat()
    return format_utc(when)


def _named_date(value: str) -> str | None:
    """The date of "May 4, 2022", "4 May 2022", "04.05.2022" (day first), a weekday before it and a time
    after it ignored."""
    value = re.sub(r"^[A-Za-z]+day,?\s+", "", value)
    value = re.split(r"\s+(?:-|at|\||·)\s+", value)[0]
    head = " ".join(value.replace(",", ", ").split()[:3]).replace(" ,", ",") if " " in value else value
    for form in ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%Y"):
        for candidate in (value, head):
            try:
                return datetime.strptime(candidate.strip(), form).date().isoformat()
            except ValueError:
                continue
    return None
