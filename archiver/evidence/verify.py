"""Re-check the evidence: every stored body, media file and WARC record against its recorded hash."""
from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from archiver.evidence.timestamps import verify_timestamps
from archiver.store.evidence import granted_timestamps


@dataclass(frozen=True)
class Problem:
    """One mismatch or missing piece of evidence."""

    kind: str  # database | body | source | media | warc | timestamp
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.where}: {self.message}"


@dataclass
class VerifyReport:
    """What was checked and what was wrong."""

    bodies: int = 0
    references: int = 0  # article versions kept by reference to a WARC/ARC record
    media: int = 0
    warc_files: int = 0
    tokens: int = 0
    problems: list = field(default_factory=list)


def verify_archive(db, db_path: str | Path, roots: list = ()) -> VerifyReport:
    """Check the database itself, re-hash bodies and media files, re-read every WARC record, check every
    timestamp against `roots`; a part the damaged database cannot give is reported, and the rest still run."""
    db_path = Path(db_path).resolve()
    report = VerifyReport()
    for part in (_database, _bodies, _media, _warcs, _timestamps):
        try:
            part(db, db_path, report, list(roots))
        except sqlite3.DatabaseError as exc:
            report.problems.append(Problem("database", db_path.name,
                                           f"{part.__name__.strip('_')} cannot be read: {exc}"))
    return report


def _database(db, db_path: Path, report: VerifyReport, roots: list) -> None:
    """SQLite's own check of every page and index (at most 100 problems named)."""
    for (answer,) in db.execute("PRAGMA integrity_check(100)").fetchall():
        for line in str(answer).splitlines():  # one answer can hold several lines
            if line.strip() and line != "ok" and not line.startswith("*** in database"):
                report.problems.append(Problem("database", db_path.name, line.strip()))


def _bodies(db, db_path: Path, report: VerifyReport, roots: list) -> None:
    for sha, content in db.execute("SELECT sha256, content FROM bodies WHERE by_reference = 0"):
        report.bodies += 1
        if hashlib.sha256(content).hexdigest() != sha:
            report.problems.append(Problem("body", sha[:16], "content does not match its SHA-256"))
    _references(db, db_path, report)


def _references(db, db_path: Path, report: VerifyReport) -> None:
    """Articles read from WARC/ARC records: each record read again where the archive says it lies, its payload
    hashed; a file no longer there is named (the evidence cannot be shown without it)."""
    from archiver.read.warcs import read_record_at

    folder = db_path.parent
    for vid, sha, file, offset, record_id in db.execute(
            "SELECT v.id, v.sha256, v.source_file, v.source_offset, v.source_record_id FROM article_versions v "
            "JOIN bodies b ON b.sha256 = v.sha256 WHERE b.by_reference = 1 AND v.source_file IS NOT NULL "
            "ORDER BY v.id"):
        report.references += 1
        where = f"{file}@{offset}"
        path = folder / file
        if not path.is_file():
            report.problems.append(Problem("source", where, f"article version {vid}: the WARC/ARC file is absent, "
                                                            "its record cannot be checked"))
            continue
        try:
            payload, headers = read_record_at(str(path), offset)
        except (OSError, ValueError) as exc:
            report.problems.append(Problem("source", where, f"article version {vid}: {exc}"))
            continue
        if record_id and headers.get("WARC-Record-ID") != record_id:
            report.problems.append(Problem("source", where, f"article version {vid}: another record lies there"))
        elif hashlib.sha256(payload).hexdigest() != sha:
            report.problems.append(Problem("source", where, f"article version {vid}: the record's payload does "
                                                            "not match its SHA-256"))


def _media(db, db_path: Path, report: VerifyReport, roots: list) -> None:
    folder = db_path.parent
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


def _warcs(db, db_path: Path, report: VerifyReport, roots: list) -> None:
    from archiver.evidence.warcs import verify_warcs
    from archiver.fetch.warc import warc_dir

    folder = db_path.parent
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


def _timestamps(db, db_path: Path, report: VerifyReport, roots: list) -> None:
    granted = granted_timestamps(db)
    report.tokens = len(granted)
    for where, message in verify_timestamps(db, db_path, roots, granted):
        report.problems.append(Problem("timestamp", where, message))
