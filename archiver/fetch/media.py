"""Media files: downloaded through the one client, type-checked, kept once by SHA-256 beside the database."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from archiver.fetch.results import MediaResult

# (magic bytes at offset, offset, extension, kind)
_SIGNATURES = (
    (b"\xff\xd8\xff", 0, "jpg", "image"),
    (b"\x89PNG\r\n\x1a\n", 0, "png", "image"),
    (b"GIF87a", 0, "gif", "image"),
    (b"GIF89a", 0, "gif", "image"),
    (b"WEBP", 8, "webp", "image"),
    (b"ftyp", 4, "mp4", "video"),
)


def sniff(body: bytes) -> tuple[str, str] | None:
    """(extension, image|video) from the first bytes, or None when it is neither."""
    for magic, offset, ext, kind in _SIGNATURES:
        if body[offset:offset + len(magic)] == magic:
            if ext == "webp" and body[:4] != b"RIFF":
                continue
            return ext, kind
    return None


def media_dir(db_path: str | os.PathLike) -> Path:
    """The folder beside the database that holds media, named after it: archive.db -> archive.files/media."""
    db_path = Path(db_path)
    return db_path.parent / f"{db_path.stem}.files" / "media"


def store_file(root: Path, body: bytes, ext: str) -> tuple[str, Path]:
    """Write a body under root/ab/<sha256>.<ext> once (atomically); return (sha256, path)."""
    sha = hashlib.sha256(body).hexdigest()
    path = root / sha[:2] / f"{sha}.{ext}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # A private temporary name: two workers may store the same photo at the same moment.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{sha[:12]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return sha, path


IMAGE_KINDS = ("photo", "poster")  # a poster is a video's still frame, as the platform shows it before playing


def download(ctx, url: str, kind: str | None, *, source_tweet_id: str | None = None,
             owner: str | None = None) -> MediaResult:
    """Fetch one media URL under the media size cap and keep it if it is the image or video it claims;
    a picture also gets its perceptual hash (fetch.likeness), so the same picture can be found elsewhere."""
    from archiver.errors import FetchError

    result = MediaResult(url=url, kind=kind, source_tweet_id=source_tweet_id, owner=owner)
    try:
        ex = ctx.get(ctx.endpoints.rewrite(url), source="media", max_bytes=ctx.limits.media_max_bytes)
    except FetchError as exc:
        result.error = exc.message
        return result
    result.warc = ex.warc
    result.content_type = ex.content_type
    if ex.status != 200:
        result.error = f"HTTP {ex.status}"
        return result
    sniffed = sniff(ex.body)
    if sniffed is None:
        result.error = f"not an image or video ({ex.content_type or 'no content type'}, {len(ex.body)} bytes)"
        return result
    ext, family = sniffed
    expected = "video" if kind in ("video", "animated_gif") else "image" if kind in IMAGE_KINDS else family
    if family != expected:
        result.error = f"expected a {expected}, got {ext} data"
        return result
    try:
        sha, path = store_file(ctx.media_root, ex.body, ext)
    except OSError as exc:
        result.error = f"could not be written: {exc.strerror or exc}"
        return result
    result.sha256, result.size = sha, len(ex.body)
    result.path = str(path.relative_to(ctx.db_folder))
    if family == "image":
        from archiver.fetch import likeness  # imagehash brings numpy and scipy: loaded once a picture is kept

        result.perceptual_hash = likeness.perceptual_hash(ex.body)
        result.hash_algorithm = likeness.ALGORITHM if result.perceptual_hash else None
    return result
