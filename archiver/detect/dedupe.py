"""One embed per post per page: sightings of the same post (in the DOM, a script, a textarea) merged."""
from __future__ import annotations

from dataclasses import fields, replace

from archiver.models import Embed


def dedupe(found: list[Embed]) -> list[Embed]:
    """One embed per post per page, fields merged from every sighting, in document order."""
    by_key: dict = {}
    no_id_seen: set = set()
    out: list[Embed] = []
    # DOM sightings first, so markup repeated in a script or textarea only fills gaps.
    for embed in sorted(found, key=lambda e: (e.context != "dom", e.position)):
        if embed.post_id:
            key = (embed.platform, embed.post_id)
            if key in by_key:
                i = by_key[key]
                out[i] = merge(out[i], embed)
                continue
            by_key[key] = len(out)
        elif embed.context != "dom":
            sig = (embed.key(), embed.text)
            if sig in no_id_seen:
                continue
            no_id_seen.add(sig)
        out.append(embed)
    return sorted(out, key=lambda e: e.position)


def merge(first: Embed, other: Embed) -> Embed:
    """Keep the first sighting, filling the fields it lacks from another one."""
    changes = {}
    for f in fields(Embed):
        if f.name in ("position", "context", "raw", "markup", "detector"):
            continue
        if not getattr(first, f.name) and getattr(other, f.name):
            changes[f.name] = getattr(other, f.name)
    return replace(first, **changes) if changes else first
