"""Score the detector against the labelled corpus in ../shared/corpus (read in place, never copied)."""
from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def shared_absent(what: Path) -> str:
    """The one skip message of a test that reads third-party data in ../shared (the README's Test data)."""
    return f"third-party test data not beside the checkout ({what}): this test reads real pages or responses in place"


def corpus_available() -> bool:
    """Whether ../shared/corpus sits beside the checkout."""
    return (CORPUS / "manifest.jsonl").is_file()


def manifest() -> list[dict]:
    """Every labelled file of the corpus."""
    with open(CORPUS / "manifest.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def label_key(label: dict) -> tuple:
    """How the corpus README says to match: (platform, id), else (platform, handle, date, pics)."""
    post_id = label.get("status_id") or label.get("post_id")
    if post_id:
        return (label["platform"], str(post_id))
    return (label["platform"], (label.get("handle") or "").lower(), label.get("date"),
            tuple(sorted(p.lower() for p in label.get("pic_links") or [])))


def embed_key(embed) -> tuple:
    """The same key for a detected embed."""
    if embed.post_id:
        return (embed.platform, embed.post_id)
    return (embed.platform, (embed.handle or "").lower(), embed.date,
            tuple(sorted(p.lower() for p in embed.pic_links)))


@dataclass
class Score:
    tp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    wrong_fields: list = field(default_factory=list)
    misses: list = field(default_factory=list)
    extras: list = field(default_factory=list)

    def recall(self, platform: str) -> float:
        total = self.tp[platform] + self.fn[platform]
        return self.tp[platform] / total if total else 1.0

    def precision(self, platform: str) -> float:
        total = self.tp[platform] + self.fp[platform]
        return self.tp[platform] / total if total else 1.0

    def report(self) -> str:
        lines = []
        for p in sorted(set(self.tp) | set(self.fn) | set(self.fp)):
            lines.append(f"{p:10s} tp={self.tp[p]:4d} fn={self.fn[p]:3d} fp={self.fp[p]:3d} "
                         f"recall={self.recall(p):.3f} precision={self.precision(p):.3f}")
        lines += [f"MISS  {m}" for m in self.misses]
        lines += [f"EXTRA {m}" for m in self.extras]
        lines += [f"FIELD {m}" for m in self.wrong_fields]
        return "\n".join(lines)


def read_article(entry: dict):
    """The corpus file as an Article, decoded as the archiver decodes any input."""
    from archiver.read.articles import article_from_bytes

    path = CORPUS / entry["file"]
    return article_from_bytes(str(path), path.read_bytes(), kind=entry["kind"])


def score(entries=None, kinds=("html", "text")) -> Score:
    """Run detection over the corpus and count hits, misses and extras per platform."""
    from archiver.detect.scan import detect

    result = Score()
    for entry in entries or manifest():
        if entry["kind"] not in kinds:
            continue
        found = detect(read_article(entry))
        score_file(entry, found, result)
    return result


def score_file(entry: dict, found: list, result: Score) -> None:
    """Match one file's detections to its labels (multiset matching on keys)."""
    pool = defaultdict(list)
    for e in found:
        pool[embed_key(e)].append(e)
    optional = []
    for label in entry["embeds"]:
        key = label_key(label)
        if label.get("ambiguous"):
            optional.append(key)
            continue
        if pool.get(key):
            hit = pool[key].pop(0)
            result.tp[label["platform"]] += 1
            _check_fields(entry, label, hit, result)
        else:
            result.fn[label["platform"]] += 1
            result.misses.append((entry["file"], key))
    for key in optional:
        if pool.get(key):
            pool[key].pop(0)
    for key, rest in pool.items():
        for e in rest:
            result.fp[e.platform] += 1
            result.extras.append((entry["file"], key, e.markup, e.context))


def _check_fields(entry, label, hit, result: Score) -> None:
    if label["platform"] != "twitter":
        return
    for name in ("handle", "date"):
        want = label.get(name)
        got = getattr(hit, name)
        if want and (got or "").lower() != want.lower():
            result.wrong_fields.append((entry["file"], label.get("status_id"), name, want, got))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    print(score().report())
