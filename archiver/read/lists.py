"""URL lists (one URL a line) and watched folders of article files."""
from __future__ import annotations

import os
from pathlib import Path

from archiver.read.discovered import DiscoverError, Item, Items, _Warnings, clean_url


def items_from_url_list(text: str, base_url: str | None = None) -> Items:
    """One URL per line; blank lines and '#' comments skipped; bad lines become warnings on the result.

    A trailing " # comment" after a URL is allowed.  Relative URLs need an http(s) base_url.
    """
    warnings = _Warnings()
    items, seen = [], set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        value, *rest = line.split(None, 1)
        if rest and not rest[0].startswith("#"):
            warnings.add(f"line {n}: not one URL: {line[:120]!r}")
            continue
        url, why = clean_url(value, base_url)
        if url is None:
            warnings.add(f"line {n}: {why}")
        elif url not in seen:
            seen.add(url)
            items.append(Item(location=url, kind="url", title=None, published=None, source_kind="urls"))
    return Items(items, warnings.done())


def items_from_folder(path: Path | str, *, suffixes=(".html", ".htm", ".txt")) -> Items:
    """Files under a watched folder (recursive, sorted, hidden files and folders skipped) with mtime and size."""
    root = Path(path)
    if not root.is_dir():
        raise DiscoverError(f"{root}: no such folder")
    wanted = tuple(s.lower() for s in suffixes)
    warnings = _Warnings()
    items = []

    def onerror(exc: OSError) -> None:
        warnings.add(f"{exc.filename}: cannot read folder: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(wanted):
                continue
            file = os.path.join(dirpath, name)
            try:
                st = os.stat(file)
            except OSError as exc:
                warnings.add(f"{file}: {exc.strerror or exc}")
                continue
            if not os.path.isfile(file):
                continue
            items.append(Item(location=file, kind="file", title=None, published=None, source_kind="folder",
                              mtime=st.st_mtime, size=st.st_size))
    return Items(items, warnings.done())
