"""RFC 3161 trusted timestamps: new evidence named in a list, the list's SHA-256 stamped by each configured TSA.

A list is a text file in ``<archive>.files/timestamps/``, one line per item, in ``sha256sum``'s format
(``<hex>  <kind>:<ref>``): a stored body, a media file, or a WARC range (every record one exchange
wrote). One token covers the whole list, and so every item in it: to prove an item was held at the
token's time, show its line in the list, the list's SHA-256 in the token, and the token's signature
up to a root you trust (``openssl ts -verify -data LIST -in TOKEN -CAfile ROOT`` does the last two).
Tokens are requested through the one HTTP client, with its retries, and verified by ``rfc3161-client``.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from archiver.clock import utcnow
from archiver.errors import ArchiverError, FetchError
from archiver.evidence.warcs import iter_range
from archiver.store.evidence import granted_timestamps, lists_to_stamp, save_list, save_timestamp, uncovered_items

CONTENT_TYPE = "application/timestamp-query"


class TimestampError(ArchiverError):
    """A token could not be read or does not hold."""


@dataclass
class StampSummary:
    """What one timestamping pass did."""

    lists: int = 0  # new lists written
    items: int = 0  # items they name
    granted: int = 0  # tokens received
    errors: list = field(default_factory=list)  # (TSA URL, why)


def timestamps_dir(db_path) -> Path:
    """The folder of lists and tokens beside the database: archive.db -> archive.files/timestamps."""
    db_path = Path(db_path).resolve()
    return db_path.parent / f"{db_path.stem}.files" / "timestamps"


def stamp(db, db_path, tsa_urls, requester, now=utcnow) -> StampSummary:
    """List every item no list names yet, then ask each TSA for a token of every list it has not stamped."""
    summary = StampSummary()
    if not tsa_urls:
        return summary
    made = write_list(db, db_path, now())
    if made:
        summary.lists, summary.items = 1, made[1]
    for url in tsa_urls:
        for row in lists_to_stamp(db, url):
            _request(db, db_path, url, row, requester, now, summary)
    return summary


def write_list(db, db_path, now: str) -> tuple[int, int] | None:
    """Write a list of the uncovered items and record it; (list id, items), or None when nothing is new."""
    folder = Path(db_path).resolve().parent
    items = []
    for kind, ref, sha in uncovered_items(db):
        if sha is None:
            try:
                sha = range_sha256(folder, ref)
            except (OSError, ValueError):
                continue  # unreadable: verify reports it; a list names only what was read
        items.append((kind, ref, sha))
    if not items:
        return None
    directory = timestamps_dir(db_path)
    directory.mkdir(parents=True, exist_ok=True)
    stamp_ = now.replace("-", "").replace(":", "")
    text = f"# archiver evidence list, {now}: the SHA-256 of every item named\n" + "".join(
        f"{sha}  {kind}:{ref}\n" for kind, ref, sha in items)
    data = text.encode("utf-8")
    path = _new_file(directory, f"evidence-{stamp_}", ".txt", data)
    rel = path.relative_to(folder).as_posix()
    return save_list(db, rel, hashlib.sha256(data).hexdigest(), items, now), len(items)


def range_sha256(folder: Path, ref: str) -> str:
    """The SHA-256 of a WARC range named ``file@offset+length``."""
    file, _, span = ref.rpartition("@")
    offset, _, length = span.partition("+")
    digest = hashlib.sha256()
    with open(folder / file, "rb") as fh:
        try:
            for chunk in iter_range(fh, int(offset), int(length)):
                digest.update(chunk)
        except ValueError:
            raise ValueError(f"{file} ends before {ref}") from None
    return digest.hexdigest()


def _new_file(directory: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write `data` to a file of its own (never over another), fsynced."""
    n = 0
    while True:
        path = directory / f"{stem}{f'-{n}' if n else ''}{suffix}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            n += 1
            continue
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return path


def _request(db, db_path, url: str, row: dict, requester, now, summary: StampSummary) -> None:
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response

    folder = Path(db_path).resolve().parent
    try:
        data = (folder / row["path"]).read_bytes()
    except OSError as exc:
        summary.errors.append((url, f"list {row['path']}: {exc}"))
        return
    digest = hashlib.sha256(data).digest()
    if digest.hex() != row["sha256"]:
        summary.errors.append((url, f"list {row['path']} no longer matches its SHA-256: not stamped"))
        return
    request = (TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).nonce(nonce=True)
               .cert_request(cert_request=True).build())
    try:
        ex = requester.get(url, source="tsa", method="POST", content=request.as_bytes(), follow_redirects=False,
                           headers={"Content-Type": CONTENT_TYPE}, extra_hosts=[_host(url)])
        if ex.status != 200:
            raise FetchError(url, f"HTTP {ex.status}")
        response = decode_timestamp_response(ex.body)
        info = response.tst_info
        if response.status not in (0, 1):
            raise TimestampError(f"not granted: status {response.status} {response.status_string or ''}".strip())
        if info.message_imprint.message != digest:
            raise TimestampError("the token stamps another digest than the list's")
        if info.nonce != request.nonce:
            raise TimestampError("the token's nonce is not the request's")
    except (FetchError, TimestampError, ValueError) as exc:
        save_timestamp(db, row["id"], url, "error", now(), error=str(exc)[:500])
        summary.errors.append((url, str(exc)))
        return
    token_path = _new_file(timestamps_dir(db_path), Path(row["path"]).stem + ".tsa", ".tsr", ex.body)
    save_timestamp(db, row["id"], url, "granted", now(), token_path=token_path.relative_to(folder).as_posix(),
                   token_sha256=hashlib.sha256(ex.body).hexdigest(),
                   **_token_fields(info), policy=info.policy.dotted_string if info.policy else None,
                   hash_algorithm=info.message_imprint.hash_algorithm.dotted_string,
                   message_imprint=info.message_imprint.message.hex())
    summary.granted += 1


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


def _name(info) -> str | None:
    try:
        return str(info.name) if info.name is not None else None
    except Exception:  # noqa: BLE001 - a name the library cannot render is just not shown
        return None


def load_roots(paths) -> list:
    """The trusted root certificates in these PEM files (each may hold several)."""
    from cryptography import x509

    roots = []
    for p in paths:
        try:
            roots += x509.load_pem_x509_certificates(Path(p).read_bytes())
        except (OSError, ValueError) as exc:
            raise TimestampError(f"{p}: not a readable PEM certificate file: {exc}") from None
    return roots


def check_token(token: bytes, message: bytes, roots: list) -> dict:
    """Verify a token (an RFC 3161 response) over `message` against `roots`; its time and TSA, or TimestampError."""
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    if not roots:
        raise TimestampError("no trusted root given (--tsa-root, or [timestamps] roots)")
    try:
        response = decode_timestamp_response(token)
    except ValueError as exc:
        raise TimestampError(f"not an RFC 3161 response: {exc}") from None
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, message)
    except VerificationError as exc:
        raise TimestampError(str(exc) or type(exc).__name__) from None
    info = response.tst_info
    return _token_fields(info)


def _token_fields(info) -> dict:
    """A token's time (as the TSA wrote it, fractions kept), its TSA's name and its serial number."""
    return {"gen_time": info.gen_time.isoformat().replace("+00:00", "Z"), "tsa_name": _name(info),
            "serial_number": str(info.serial_number)}


def list_lines(data: bytes) -> dict[str, str]:
    """A list's items: {"kind:ref": sha256}."""
    out = {}
    for line in data.decode("utf-8").splitlines():
        if line and not line.startswith("#"):
            sha, _, name = line.partition("  ")
            out[name] = sha
    return out


def verify_timestamps(db, db_path, roots: list, granted: list | None = None) -> list[tuple[str, str]]:
    """(where, problem) for every token that does not hold, and every listed WARC range that changed."""
    folder = Path(db_path).resolve().parent
    problems = []
    checked_lists: dict[str, bytes | None] = {}
    for t in granted if granted is not None else granted_timestamps(db):
        where = f"timestamp #{t['id']} ({t['tsa_url']})"
        try:
            data = checked_lists.get(t["list_path"]) or (folder / t["list_path"]).read_bytes()
            token = (folder / t["token_path"]).read_bytes()
        except OSError as exc:
            problems.append((where, f"file missing: {exc.filename}"))
            continue
        if hashlib.sha256(data).hexdigest() != t["list_sha256"]:
            problems.append((where, f"list {t['list_path']} does not match its SHA-256"))
            continue
        if hashlib.sha256(token).hexdigest() != t["token_sha256"]:
            problems.append((where, f"token {t['token_path']} does not match its SHA-256"))
        try:
            check_token(token, data, roots)
        except TimestampError as exc:
            problems.append((where, str(exc)))
            continue
        if t["list_path"] not in checked_lists:
            checked_lists[t["list_path"]] = data
            problems += _changed_items(db, folder, t["list_id"], t["list_path"], data)
    return problems


def _changed_items(db, folder: Path, list_id: int, list_path: str, data: bytes) -> list[tuple[str, str]]:
    """Every item a stamped list names that the archive no longer holds as it was then."""
    problems = []
    named = list_lines(data)
    for kind, ref, sha in db.execute("SELECT kind, ref, sha256 FROM evidence_items WHERE list_id = ?", [list_id]):
        if named.get(f"{kind}:{ref}") != sha:
            problems.append((ref, f"the archive says {list_path} names it with another SHA-256 than the list does"))
    for name, sha in named.items():
        kind, _, ref = name.partition(":")
        if kind == "warc":
            try:
                if range_sha256(folder, ref) != sha:
                    problems.append((ref, f"WARC range named in {list_path} has changed"))
            except (OSError, ValueError) as exc:
                problems.append((ref, f"WARC range named in {list_path} cannot be read: {exc}"))
        elif kind == "body" and db.execute("SELECT 1 FROM bodies WHERE sha256 = ?", [ref]).fetchone() is None:
            problems.append((ref, f"body named in {list_path} is no longer stored"))
        elif kind == "media" and sha not in {r[0] for r in db.execute(
                "SELECT sha256 FROM media WHERE path = ?", [ref])}:
            problems.append((ref, f"media file named in {list_path} is recorded with another SHA-256 now"))
    return problems
