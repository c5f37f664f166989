"""Re-check the evidence: every stored body, media file and WARC record against its recorded hash."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from archiver.evidence.timestamps import verify_timestamps
from archiver.store.evidence import granted_timestamps


@dataclass(frozen=True)
class Problem:
    """One mismatch or missing piece of evidence."""

    kind: str  # body | media | warc | timestamp
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.where}: {self.message}"


@dataclass
class VerifyReport:
    """What was checked and what was wrong."""

    bodies: int = 0
    media: int = 0
    warc_files: int = 0
    tokens: int = 0
    problems: list = field(default_factory=list)


def verify_archive(db, db_path: str | Path, roots: list = ()) -> VerifyReport:
    """Re-hash bodies and media files, re-read every WARC record, check every timestamp against `roots`."""
    from archiver.evidence.warcs import verify_warcs
    from archiver.fetch.warc import warc_dir

    db_path = Path(db_path).resolve()
    folder = db_path.parent
    report = VerifyReport()
    for sha, content in db.execute("SELECT sha256, content FROM bodies"):
        report.bodies += 1
        if hashlib.sha256(content).hexdigest() != sha:
            report.problems.append(Problem("body", sha[:16], "content does not match its SHA-256"))
    for media_id, sha, path in db.execute("SELECT id, sha256, path FROM media WHERE sha256 IS NOT NULL"):
        report.media += 1
        file = folder / path
        if not file.is_file():
            report.problems.append(Problem("media", f"#{media_id} {path}", "file is missing"))
            continue
        digest = hashlib.sha256()
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != sha:
            report.problems.append(Problem("media", f"#{media_id} {path}", "file does not match its SHA-256"))
    referenced = {row[0] for row in db.execute(
        "SELECT warc_file FROM snapshots WHERE warc_file IS NOT NULL UNION "
        "SELECT warc_file FROM media WHERE warc_file IS NOT NULL UNION "
        "SELECT warc_file FROM fetch_attempts WHERE warc_file IS NOT NULL UNION "
        "SELECT warc_file FROM article_versions WHERE warc_file IS NOT NULL")}
    for name in sorted(referenced):
        if not (folder / name).is_file():
            report.problems.append(Problem("warc", name, "file referenced by the archive is missing"))
    directory = warc_dir(db_path)
    if directory.is_dir():
        report.warc_files = len([p for p in directory.iterdir() if p.name.endswith(".warc.gz")])
        for problem in verify_warcs(directory):
            report.problems.append(Problem("warc", f"{problem.file}@{problem.offset}", problem.message))
    report.tokens = len(granted_timestamps(db))
    for where, message in verify_timestamps(db, db_path, list(roots)):
        report.problems.append(Problem("timestamp", where, message))
    return report
