"""Reading JSON response bodies without ever raising: (data, None) or (None, a one-line reason)."""
from __future__ import annotations

import json
from typing import Any


def one_line(text: str) -> str:
    """Any text as one line: runs of whitespace, newlines included, become one space."""
    return " ".join(text.split())


def snippet(body: Any, limit: int = 80) -> str:
    """': <the start of the body>' for an error message, or '' when there is nothing to show."""
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body[: limit * 4]).decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip():
        return ""
    text = one_line(body)
    return f": {text[:limit]}{'…' if len(text) > limit else ''}"


def body_text(body: bytes | str | None) -> tuple[str, str | None]:
    """A body as text (UTF-8, BOM dropped), or ("", a one-line reason): not UTF-8, empty, odd type."""
    if body is None:
        return "", "empty body"
    if isinstance(body, (bytes, bytearray, memoryview)):
        raw = bytes(body)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return "", f"body is not UTF-8 text ({len(raw)} bytes)"
    elif isinstance(body, str):
        text = body
    else:
        return "", f"unsupported body type {type(body).__name__}"
    if not text.strip():
        return "", "empty body"
    return text, None


def load_json(body: bytes | str | None, *, show_start: bool = False) -> tuple[Any, str | None]:
    """Parse a body as UTF-8 JSON; on failure the reason, with the body's start when show_start."""
    text, problem = body_text(body)
    if problem:
        return None, problem
    try:
        return json.loads(text), None
    except (ValueError, RecursionError) as exc:
        return None, f"not JSON: {one_line(str(exc))}" + (snippet(text) if show_start else "")
