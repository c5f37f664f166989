"""Checking a WACZ package alone, without the archive it came from: digests, WARC records, timestamps.

In order: ``datapackage-digest.json`` holds the SHA-256 of ``datapackage.json``; that lists every file
of the package with its SHA-256 and size, and nothing else is in it; every WARC record reads and its
digests hold; every range ``archiver.json`` places in the package hashes as it says; every token is a
valid RFC 3161 signature, up to a root the user trusts, over its evidence list; and every range an
evidence list names is, byte for byte, what the package holds. Certificates inside the package are
never trusted on their own.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archiver.errors import ArchiverError
from archiver.evidence.timestamps import TimestampError, check_token, list_lines
from archiver.evidence.warcs import verify_file
from archiver.store.evidence import warc_ref

DIGEST_FILE = "datapackage-digest.json"
PACKAGE_FILE = "datapackage.json"
MANIFEST = "logs/archiver.json"


@dataclass
class PackageReport:
    """What was checked in a package and what was wrong (one line each)."""

    files: int = 0
    records: int = 0
    tokens: int = 0
    problems: list = field(default_factory=list)


def verify_package(path, roots: list) -> PackageReport:
    """Check a WACZ package alone; every problem named with the file it is in."""
    report = PackageReport()
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiverError(f"{path}: not a readable WACZ (zip) file: {exc}") from None
    with z:
        names = set(z.namelist())
        for required in (PACKAGE_FILE, DIGEST_FILE):
            if required not in names:
                report.problems.append(f"{required}: missing from the package")
        if report.problems:
            return report
        package_bytes = z.read(PACKAGE_FILE)
        _check_digest_file(z, package_bytes, report)
        try:
            resources = json.loads(package_bytes)["resources"]
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"{PACKAGE_FILE}: unreadable: {exc}")
            return report
        listed = {r.get("path") for r in resources}
        for extra in sorted(names - listed - {PACKAGE_FILE, DIGEST_FILE}):
            report.problems.append(f"{extra}: in the package but not listed in {PACKAGE_FILE}")
        for res in resources:
            report.files += 1
            _check_resource(z, res, names, report)
        with tempfile.TemporaryDirectory() as tmp:
            warcs = {}
            for name in sorted(n for n in names if n.startswith("archive/") and ".warc" in n):
                local = Path(tmp) / Path(name).name
                with z.open(name) as src, open(local, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                warcs[name] = local
                _check_warc(name, local, report)
            if MANIFEST in names:
                _check_manifest(z, warcs, roots, report)
    return report


def _check_digest_file(z: zipfile.ZipFile, package_bytes: bytes, report: PackageReport) -> None:
    try:
        said = json.loads(z.read(DIGEST_FILE))["hash"]
    except (ValueError, KeyError, TypeError) as exc:
        report.problems.append(f"{DIGEST_FILE}: unreadable: {exc}")
        return
    if said != "sha256:" + hashlib.sha256(package_bytes).hexdigest():
        report.problems.append(f"{PACKAGE_FILE}: does not match the SHA-256 in {DIGEST_FILE}")


def _check_resource(z: zipfile.ZipFile, res: dict, names: set, report: PackageReport) -> None:
    name = res.get("path")
    if name not in names:
        report.problems.append(f"{name}: listed in {PACKAGE_FILE} but missing from the package")
        return
    algo, _, want = str(res.get("hash", "")).partition(":")
    if algo not in ("sha256", "md5"):
        report.problems.append(f"{name}: unknown hash {res.get('hash')!r} in {PACKAGE_FILE}")
        return
    digest, size = hashlib.new(algo), 0
    try:
        with z.open(name) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a flipped byte in a stored member: bad CRC
        report.problems.append(f"{name}: unreadable in the package: {exc}")
        return
    if digest.hexdigest() != want:
        report.problems.append(f"{name}: does not match its {algo} in {PACKAGE_FILE}")
    elif res.get("bytes") is not None and res["bytes"] != size:
        report.problems.append(f"{name}: {size} bytes, {PACKAGE_FILE} says {res['bytes']}")


def _check_warc(name: str, local: Path, report: PackageReport) -> None:
    for problem in verify_file(local):
        report.problems.append(f"{name}@{problem.offset}: {problem.message}")
    try:
        with open(local, "rb") as fh:
            report.records += sum(1 for _ in ArchiveIterator(fh))
    except Exception as exc:  # noqa: BLE001 - verify_file has named the damage; counting just stops
        report.problems.append(f"{name}: records cannot all be read: {type(exc).__name__}")


def _check_manifest(z: zipfile.ZipFile, warcs: dict, roots: list, report: PackageReport) -> None:
    try:
        manifest = json.loads(z.read(MANIFEST))
    except ValueError as exc:
        report.problems.append(f"{MANIFEST}: unreadable: {exc}")
        return
    places = [place for kind in ("posts", "articles") for item in manifest.get(kind, [])
              for place in _places(item)]
    held: dict[str, str] = {}  # "warc:<source range>" -> sha256 of the bytes the package holds there
    for place in places:
        local = warcs.get(place.get("package_file"))
        if local is None:
            report.problems.append(f"{MANIFEST}: names {place.get('package_file')}, not in the package")
            continue
        with open(local, "rb") as fh:
            fh.seek(place["package_offset"])
            sha = hashlib.sha256(fh.read(place["length"])).hexdigest()
        if sha != place["sha256"]:
            report.problems.append(f"{place['package_file']}@{place['package_offset']}: bytes differ from the "
                                   f"SHA-256 {MANIFEST} gives")
        if "source_file" in place:
            held["warc:" + warc_ref(place["source_file"], place["source_offset"], place["length"])] = sha
    for entry in manifest.get("timestamps", []):
        _check_timestamps(z, entry, held, roots, report)


def _places(item: dict):
    """Every package range an item of archiver.json names: its records, snapshots, media, versions, rendering."""
    for key in ("records", "snapshots", "media", "versions"):
        for sub in item.get(key) or []:
            if sub.get("package"):
                yield sub["package"]
    if item.get("rendering"):
        yield item["rendering"]


def _check_timestamps(z: zipfile.ZipFile, entry: dict, held: dict, roots: list, report: PackageReport) -> None:
    name = entry.get("list")
    try:
        data = z.read(name)
    except (KeyError, TypeError):
        report.problems.append(f"{name}: evidence list named in {MANIFEST} is missing")
        return
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        report.problems.append(f"{name}: does not match the SHA-256 {MANIFEST} gives")
    for token in entry.get("tokens", []):
        report.tokens += 1
        try:
            check_token(z.read(token["file"]), data, roots)
        except KeyError:
            report.problems.append(f"{token['file']}: timestamp token named in {MANIFEST} is missing")
        except TimestampError as exc:
            report.problems.append(f"{token['file']}: {exc}")
    for item, sha in list_lines(data).items():
        if item in held and held[item] != sha:
            report.problems.append(f"{item}: the package's bytes are not those {name} names")
