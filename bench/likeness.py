"""Perceptual hashing (archiver.fetch.likeness) on real photographs: copies found, other photographs not.

    python bench/likeness.py [--seed 0] [--copies 2]

The photographs are the ones inside scikit-image's wheel (skimage/data/*.png|jpg, read as files: nothing
is downloaded). Each one gets COPIES copies of each kind, with parameters drawn from SEED: a JPEG
re-encode (quality 30-95), a resize (50-200%), a crop (2-5% off each edge), a brightness change (3-10%
up or down), and all four at once. Positive pairs: a photograph and one of its copies. Negative pairs:
every two items (photographs or copies) from different photographs; the ones among the photographs
alone are counted apart. Every hasher reads the same bytes.

Prints, for archiver's hash at MAX_DISTANCE, precision and recall and the distances (the largest
positive, the smallest negative), recall by kind of copy, then the same for the alternatives (each
hash of imagehash alone, and PDQ via pdqhash when it is installed) at their documented threshold, at 60%
of their smallest negative distance (a margin) and at the best threshold this run allows, against SHA-256 (exact bytes, what the media folder is keyed on)
as the baseline. Requirement: no negative pair matches at MAX_DISTANCE.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Photographs (not drawings or charts) shipped inside the scikit-image wheel; the rest need a download.
PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "clock_motion.png", "coffee.png",
    "coins.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "microaneurysms.png",
    "moon.png", "motorcycle_left.png", "page.png", "retina.jpg", "rocket.jpg", "text.png",
)
# Two photographs of one scene from camera positions a few centimetres apart: reported, not counted.
STEREO = ("motorcycle_left.png", "motorcycle_right.png")
KINDS = ("jpeg", "resize", "crop", "brightness", "all four")


@dataclass
class Item:
    photo: str
    kind: str  # "original" or one of KINDS
    body: bytes


def encode(im, fmt="PNG", **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def copies(im, rng: random.Random, n: int):
    """(kind, bytes) of n copies of each kind."""
    from PIL import Image, ImageEnhance

    def crop(im):
        w, h = im.size
        left, top, right, bottom = (rng.uniform(0.02, 0.05) for _ in range(4))
        return im.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))

    def resize(im):
        scale = rng.uniform(0.5, 2.0)
        return im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)

    def brightness(im):
        return ImageEnhance.Brightness(im).enhance(1 + rng.choice((-1, 1)) * rng.uniform(0.03, 0.10))

    def jpeg(im):
        return encode(im, "JPEG", quality=rng.randint(30, 95))

    for _ in range(n):
        yield "jpeg", jpeg(im)
        yield "resize", encode(resize(im))
        yield "crop", encode(crop(im))
        yield "brightness", encode(brightness(im))
        yield "all four", jpeg(brightness(resize(crop(im))))


@dataclass
class Hasher:
    name: str
    bits: int
    threshold: int | None  # the documented one; None: only the best this run allows is reported
    note: str
    hash: object  # bytes -> int | None
    seconds: float = 0.0


def hashers() -> list[Hasher]:
    import imagehash
    from PIL import Image

    from archiver.fetch import likeness

    def ours(body):
        h = likeness.perceptual_hash(body)
        return None if h is None else int(h, 16)

    def one(fn):
        def hash_(body):
            with Image.open(io.BytesIO(body)) as im:
                return int(str(fn(im.convert("RGB"))), 16)
        return hash_

    out = [
        Hasher(f"archiver ({likeness.ALGORITHM})", 128, likeness.MAX_DISTANCE, "chosen", ours),
        Hasher("imagehash phash", 64, None, "", one(imagehash.phash)),
        Hasher("imagehash dhash", 64, None, "", one(imagehash.dhash)),
        Hasher("imagehash whash", 64, None, "", one(imagehash.whash)),
    ]
    try:
        import numpy
        import pdqhash
    except ImportError:
        print("pdqhash not installed: PDQ not compared (pip install pdqhash, which compiles)", file=sys.stderr)
    else:
        def pdq(body):
            with Image.open(io.BytesIO(body)) as im:
                bits, _quality = pdqhash.compute(numpy.asarray(im.convert("RGB")))
            return int("".join("1" if b else "0" for b in bits), 2)
        out.append(Hasher("PDQ (pdqhash)", 256, 31, "31: PDQ's documented match threshold", pdq))
    return out


def hash_all(hasher: Hasher, items: list[Item]) -> list[int | None]:
    start = time.perf_counter()
    out = [hasher.hash(item.body) for item in items]
    hasher.seconds = time.perf_counter() - start
    return out


def bits_apart(a: int | None, b: int | None) -> int:
    """Hamming distance; an image without a hash is never near anything."""
    return 10**6 if a is None or b is None else (a ^ b).bit_count()


def score(pos: list[int], neg: list[int], threshold: int) -> tuple[float, float, int, int]:
    """(precision, recall, true positives, false positives) at threshold."""
    tp = sum(d <= threshold for d in pos)
    fp = sum(d <= threshold for d in neg)
    return (tp / (tp + fp) if tp + fp else 1.0), tp / len(pos), tp, fp


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--copies", type=int, default=2, help="copies of each kind per photograph")
    args = ap.parse_args()
    try:
        import skimage.data
    except ImportError:
        print("skipped: scikit-image is not installed (pip install scikit-image): its photographs are the data")
        return 0
    from PIL import Image

    folder = Path(skimage.data.__file__).parent
    missing = [name for name in PHOTOS + STEREO if not (folder / name).is_file()]
    if missing:
        print(f"skipped: this scikit-image wheel lacks {', '.join(missing)} in {folder}")
        return 0

    rng = random.Random(args.seed)
    items: list[Item] = []
    for name in PHOTOS:
        body = (folder / name).read_bytes()
        items.append(Item(name, "original", body))
        with Image.open(io.BytesIO(body)) as im:
            rgb = im.convert("RGB")
        items.extend(Item(name, kind, copy) for kind, copy in copies(rgb, rng, args.copies))
    stereo = [Item(name, "original", (folder / name).read_bytes()) for name in STEREO]

    positives = [(i, j) for i, a in enumerate(items) for j, b in enumerate(items)
                 if a.kind == "original" and b.kind != "original" and a.photo == b.photo]
    negatives = [(i, j) for i, j in itertools.combinations(range(len(items)), 2)
                 if items[i].photo != items[j].photo]
    among_originals = sum(items[i].kind == items[j].kind == "original" for i, j in negatives)
    print(f"{len(PHOTOS)} photographs, {len(items) - len(PHOTOS)} copies (seed {args.seed}): "
          f"{len(positives)} positive pairs, {len(negatives)} negative pairs "
          f"({among_originals} among the photographs alone)\n")

    sha = [hashlib.sha256(item.body).digest() for item in items]  # the baseline: only identical bytes match
    base_recall = sum(sha[i] == sha[j] for i, j in positives) / len(positives)

    rows, by_kind, chosen = [], {}, None
    for hasher in hashers():
        print(f"hashing {len(items)} images with {hasher.name}", file=sys.stderr)
        h = hash_all(hasher, items)
        unhashed = sum(x is None for x in h)
        pos = [bits_apart(h[i], h[j]) for i, j in positives]
        neg = [bits_apart(h[i], h[j]) for i, j in negatives]
        best = min(neg) - 1  # the loosest threshold at which no negative matches, in this run
        thresholds = [(hasher.threshold, hasher.note)] if hasher.threshold is not None else []
        thresholds.append((int(0.6 * min(neg)), "60% of min negative: a margin for other photographs"))
        thresholds.append((best, "min negative - 1: the best this run allows, no margin"))
        for threshold, note in thresholds:
            precision, recall, tp, fp = score(pos, neg, threshold)
            rows.append((hasher.name, hasher.bits, threshold, note, precision, recall, tp, fp, max(pos), min(neg),
                         1000 * hasher.seconds / len(items), unhashed))
        if chosen is None:
            chosen = hasher
            by_kind = {kind: [d for (i, j), d in zip(positives, pos) if items[j].kind == kind] for kind in KINDS}
            s0, s1 = (hasher.hash(item.body) for item in stereo)
            stereo_distance = (s0 ^ s1).bit_count()
            chosen_pos, chosen_neg = pos, neg

    threshold = chosen.threshold
    precision, recall, tp, fp = score(chosen_pos, chosen_neg, threshold)
    print(f"| {chosen.name}, MAX_DISTANCE {threshold} of {chosen.bits} bits | |")
    print("|---|---|")
    print(f"| pairs: positive / negative | {len(chosen_pos)} / {len(chosen_neg)} |")
    print(f"| precision | {precision:.3f} ({fp} false matches) |")
    print(f"| recall | {recall:.3f} ({tp} of {len(chosen_pos)}); SHA-256 baseline {base_recall:.3f} |")
    print(f"| largest positive distance | {max(chosen_pos)} |")
    print(f"| smallest negative distance | {min(chosen_neg)} |")
    ranked = sorted(chosen_neg)
    print(f"| negative distances: 0.1st / 1st percentile / median | {ranked[len(ranked) // 1000]} / "
          f"{ranked[len(ranked) // 100]} / {ranked[len(ranked) // 2]} |")
    for kind, ds in by_kind.items():
        hit = sum(d <= threshold for d in ds)
        print(f"| recall, {kind} | {hit / len(ds):.3f} ({hit}/{len(ds)}; distances {min(ds)}-{max(ds)}) |")
    print(f"\nNot counted: {STEREO[0]} vs {STEREO[1]} (one scene, the camera moved a few cm): "
          f"distance {stereo_distance}, {'alike' if stereo_distance <= threshold else 'not alike'}\n")

    print("| hasher | bits | threshold | | precision | recall | false matches | max positive | min negative "
          "| ms/image | unhashed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, bits, thr, note, precision, recall, tp, fp, max_pos, min_neg, ms, unhashed in rows:
        print(f"| {name} | {bits} | {thr} | {note} | {precision:.3f} | {recall:.3f} | {fp} | {max_pos} | {min_neg} "
              f"| {ms:.1f} | {unhashed} |")

    if fp:
        print(f"\nFAILED: {fp} negative pairs match at MAX_DISTANCE {threshold}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
