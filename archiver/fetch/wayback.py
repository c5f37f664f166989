"""Pure parsing of the Wayback Machine's availability and CDX APIs (no HTTP, no database)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlencode

from archiver.fetch.jsonbody import body_text, one_line

DEFAULT_AVAILABLE_BASE = "https://archive.org"
DEFAULT_CDX_BASE = "https://web.archive.org"
REPLAY_BASE = "https://web.archive.org/web"

OUTCOMES = ("archived", "not_found", "error")
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")

_TIMESTAMP = re.compile(r"^[0-9]{4}(?:[0-9]{2}){0,5}$")
_REPLAY = re.compile(r"^https?://(?:web\.)?archive\.org/web/(?P<ts>[0-9]{4,14})(?:[a-z]{2}_)?/(?P<original>.+)$")


@dataclass(frozen=True)
class Capture:
    """One Wayback capture of a URL."""

    timestamp: str  # ISO-8601 UTC, e.g. 2021-01-09T15:56:28Z
    wayback_timestamp: str  # the 14 digits Wayback uses in URLs, e.g. 20210109155628
    original: str  # the URL as it was captured
    replay_url: str  # https://web.archive.org/web/TIMESTAMP/ORIGINAL
    status: int | None = None  # HTTP status of the capture; None for "-" (revisits, redirects in some records)
    mimetype: str | None = None
    digest: str | None = None  # base32 SHA-1 of the payload
    length: int | None = None  # compressed record length in the WARC
    urlkey: str | None = None  # SURT form

    @property
    def raw_url(self) -> str:
        """Replay URL of the original bytes, without the Wayback toolbar or link rewriting."""
        return replay_url(self.wayback_timestamp, self.original, flag="id_")


@dataclass(frozen=True)
class AvailabilityResult:
    """What /wayback/available says: the closest capture, or none."""

    outcome: str  # archived | not_found | error
    status_code: int | None = None
    error: str | None = None
    url: str | None = None  # the URL the API echoed
    capture: Capture | None = None


@dataclass(frozen=True)
class CdxResult:
    """What /cdx/search/cdx says: captures in the order returned."""

    outcome: str  # archived | not_found | error
    status_code: int | None = None
    error: str | None = None
    captures: tuple[Capture, ...] = ()
    resume_key: str | None = None  # present when showResumeKey=true and more rows remain
    skipped: int = 0  # rows that could not be read


def build_available_url(base: str | None, url: str, timestamp: str | datetime | date | None = None) -> str:
    """The /wayback/available URL for a URL, optionally closest to a timestamp (base None -> archive.org)."""
    params = {"url": url}
    if timestamp is not None:
        params["timestamp"] = _timestamp_param(timestamp)
    return f"{(base or DEFAULT_AVAILABLE_BASE).rstrip('/')}/wayback/available?{urlencode(params)}"


def build_cdx_url(
    base: str | None,
    url_pattern: str,
    from_: str | datetime | date | None = None,
    to: str | datetime | date | None = None,
    limit: int | None = 1000,
    *,
    output: str = "json",
    match_type: str | None = None,
    filters: tuple[str, ...] = (),
    collapse: str | None = None,
) -> str:
    """The /cdx/search/cdx URL for a URL or pattern (base None -> web.archive.org); default fields only."""
    params: list[tuple[str, str]] = [("url", url_pattern)]
    if output:
        params.append(("output", output))
    if match_type:
        params.append(("matchType", match_type))
    if from_ is not None:
        params.append(("from", _timestamp_param(from_)))
    if to is not None:
        params.append(("to", _timestamp_param(to)))
    params.extend(("filter", f) for f in filters)
    if collapse:
        params.append(("collapse", collapse))
    if limit is not None:
        params.append(("limit", str(int(limit))))
    return f"{(base or DEFAULT_CDX_BASE).rstrip('/')}/cdx/search/cdx?{urlencode(params)}"


def replay_url(wayback_timestamp: str, original: str, flag: str = "") -> str:
    """https://web.archive.org/web/TIMESTAMP[flag]/ORIGINAL; flag "id_" replays the original bytes."""
    return f"{REPLAY_BASE}/{wayback_timestamp}{flag}/{original}"


def timestamp_to_iso(wayback_timestamp: str) -> str | None:
    """20210109155628 -> 2021-01-09T15:56:28Z; shorter prefixes pad like Wayback does; None if invalid."""
    if not isinstance(wayback_timestamp, str) or not _TIMESTAMP.match(wayback_timestamp):
        return None
    # Wayback reads a short prefix as the start of that period: 2021 -> 20210101000000.
    padded = wayback_timestamp + "0101000000"[len(wayback_timestamp) - 4 :]
    try:
        dt = datetime.strptime(padded, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_available(status_code: int, body: bytes | str | None) -> AvailabilityResult:
    """Turn one /wayback/available response into an AvailabilityResult; never raises."""
    try:
        return _parse_available(status_code, body)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not become a crash in the daemon
        message = one_line(f"{type(exc).__name__}: {exc}")
        return AvailabilityResult(outcome="error", status_code=_code(status_code), error=message)


def parse_cdx(status_code: int, body: bytes | str | None) -> CdxResult:
    """Turn one CDX response (output=json or plain text lines) into a CdxResult; never raises."""
    try:
        return _parse_cdx(status_code, body)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not become a crash in the daemon
        message = one_line(f"{type(exc).__name__}: {exc}")
        return CdxResult(outcome="error", status_code=_code(status_code), error=message)


def _parse_available(status_code: int, body: bytes | str | None) -> AvailabilityResult:
    if not isinstance(status_code, int) or not 200 <= status_code < 300:
        return AvailabilityResult(outcome="error", status_code=_code(status_code), error=f"HTTP {status_code}")
    text, problem = _text(body)
    if problem:
        return AvailabilityResult(outcome="error", status_code=status_code, error=problem)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return AvailabilityResult(outcome="error", status_code=status_code, error=one_line(f"not JSON: {exc}"))
    if not isinstance(data, dict) or not isinstance(data.get("archived_snapshots"), dict):
        return AvailabilityResult(outcome="error", status_code=status_code, error="no archived_snapshots object")
    echoed = data.get("url") if isinstance(data.get("url"), str) else None
    closest = data["archived_snapshots"].get("closest")
    if closest is None or (isinstance(closest, dict) and closest.get("available") is False):
        return AvailabilityResult(outcome="not_found", status_code=status_code, url=echoed)
    if not isinstance(closest, dict):
        return AvailabilityResult(
            outcome="error", status_code=status_code, url=echoed, error="closest is not an object"
        )
    api_url = closest.get("url") if isinstance(closest.get("url"), str) else ""
    m = _REPLAY.match(api_url)
    wayback_ts = closest.get("timestamp")
    if not isinstance(wayback_ts, str):
        wayback_ts = m.group("ts") if m else None
    original = m.group("original") if m else echoed
    iso = timestamp_to_iso(wayback_ts) if wayback_ts else None
    if not iso or not original:
        return AvailabilityResult(
            outcome="error", status_code=status_code, url=echoed, error="closest capture lacks a valid timestamp or URL"
        )
    capture = Capture(
        timestamp=iso,
        wayback_timestamp=wayback_ts,
        original=original,
        replay_url=replay_url(wayback_ts, original),
        status=_int(closest.get("status")),
    )
    return AvailabilityResult(outcome="archived", status_code=status_code, url=echoed, capture=capture)


def _parse_cdx(status_code: int, body: bytes | str | None) -> CdxResult:
    if not isinstance(status_code, int) or not 200 <= status_code < 300:
        return CdxResult(outcome="error", status_code=_code(status_code), error=f"HTTP {status_code}")
    if body is not None and not isinstance(body, (bytes, bytearray, memoryview, str)):
        return CdxResult(outcome="error", status_code=status_code, error=f"unsupported body type {type(body).__name__}")
    text, problem = _text(body)
    if problem == "empty body":
        return CdxResult(outcome="not_found", status_code=status_code)
    if problem:
        return CdxResult(outcome="error", status_code=status_code, error=problem)
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return CdxResult(outcome="error", status_code=status_code, error=one_line(f"not JSON: {exc}"))
        if not isinstance(rows, list):
            return CdxResult(outcome="error", status_code=status_code, error="CDX JSON is not a list of rows")
        return _from_rows(status_code, rows)
    if stripped.startswith(("{", "<")):
        message = one_line(f"not a CDX response: {stripped[:80]}")
        return CdxResult(outcome="error", status_code=status_code, error=message)
    return _from_lines(status_code, text)


def _from_rows(status_code: int, rows: list) -> CdxResult:
    if not rows:
        return CdxResult(outcome="not_found", status_code=status_code)
    header = rows[0]
    is_header = isinstance(header, list) and all(isinstance(h, str) for h in header)
    if is_header and "timestamp" in header and "original" in header:
        fields, body_rows = tuple(header), rows[1:]
    else:
        fields, body_rows = CDX_FIELDS, rows
    captures: list[Capture] = []
    skipped = 0
    resume_key = None
    for i, row in enumerate(body_rows):
        # showResumeKey ends the rows with [] and then [key].
        if row == [] and i + 2 == len(body_rows) and _single_str(body_rows[i + 1]):
            resume_key = body_rows[i + 1][0]
            break
        if not isinstance(row, list) or len(row) != len(fields) or not all(isinstance(v, str) for v in row):
            skipped += 1
            continue
        capture = _capture(dict(zip(fields, row)))
        if capture is None:
            skipped += 1
        else:
            captures.append(capture)
    return _cdx_result(status_code, captures, skipped, resume_key)


def _from_lines(status_code: int, text: str) -> CdxResult:
    lines = text.splitlines()
    captures: list[Capture] = []
    skipped = 0
    resume_key = None
    for i, line in enumerate(lines):
        parts = line.split()
        if not parts:
            rest = [ln.split() for ln in lines[i + 1 :] if ln.strip()]
            if len(rest) == 1 and len(rest[0]) == 1:
                resume_key = rest[0][0]
                break
            continue
        if len(parts) != len(CDX_FIELDS):
            skipped += 1
            continue
        capture = _capture(dict(zip(CDX_FIELDS, parts)))
        if capture is None:
            skipped += 1
        else:
            captures.append(capture)
    return _cdx_result(status_code, captures, skipped, resume_key)


def _cdx_result(status_code: int, captures: list[Capture], skipped: int, resume_key: str | None) -> CdxResult:
    if captures:
        return CdxResult(
            outcome="archived",
            status_code=status_code,
            captures=tuple(captures),
            resume_key=resume_key,
            skipped=skipped,
        )
    if skipped:
        message = f"no readable CDX rows ({skipped} malformed)"
        return CdxResult(outcome="error", status_code=status_code, error=message, skipped=skipped)
    return CdxResult(outcome="not_found", status_code=status_code, resume_key=resume_key)


def _capture(row: dict[str, str]) -> Capture | None:
    ts = row.get("timestamp", "")
    original = row.get("original", "")
    iso = timestamp_to_iso(ts)
    if not iso or not original:
        return None
    return Capture(
        timestamp=iso,
        wayback_timestamp=ts,
        original=original,
        replay_url=replay_url(ts, original),
        status=_int(row.get("statuscode")),
        mimetype=_dash(row.get("mimetype")),
        digest=_dash(row.get("digest")),
        length=_int(row.get("length")),
        urlkey=_dash(row.get("urlkey")),
    )


def _timestamp_param(value: str | datetime | date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return re.sub(r"[^0-9]", "", str(value))  # accepts "2021-01-09T15:56:28Z" too


def _text(body: bytes | str | None) -> tuple[str, str | None]:
    text, problem = body_text(body)
    if problem is None and isinstance(body, (bytes, bytearray, memoryview)) and "\x00" in text:
        return "", f"body is binary ({len(bytes(body))} bytes)"
    return text, problem


def _single_str(row: Any) -> bool:
    return isinstance(row, list) and len(row) == 1 and isinstance(row[0], str)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,20}", value.strip()):
        return int(value)
    return None


def _dash(value: str | None) -> str | None:
    return None if value in (None, "", "-") else value


def _code(status_code: Any) -> int | None:
    return status_code if isinstance(status_code, int) and not isinstance(status_code, bool) else None


