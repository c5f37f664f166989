"""Perceptual hashes of stored images, so the same picture can be found again in other posts.

The hash is imagehash's DCT hash (phash, 64 bits) followed by its difference hash (dhash, 64 bits),
both read from the picture's grey levels: 128 bits written as 32 hex digits. Two pictures are alike
when the two hashes differ in at most MAX_DISTANCE bits. bench/likeness.py measures the choice (and
PDQ beside it) on real photographs: re-encoded, resized, cropped 2-5% and brightened copies against
different photographs.

No hash (None) for:
- bytes that are not a decodable image, or whose header declares more than MAX_PIXELS pixels
  (nothing that large is decoded);
- a picture under MIN_SIDE pixels on either side: the hash would be read from an enlargement;
- a flat picture: when the 32x32 grey thumbnail the hash is read from has a standard deviation under
  MIN_CONTRAST grey levels (a single colour, a blank frame), its bits would be noise.
"""
from __future__ import annotations

import io

import imagehash
import numpy
from PIL import Image, ImageOps

ALGORITHM = "phash64+dhash64"
"""The name stored beside a hash: hashes of different algorithms are never compared."""

MAX_DISTANCE = 24
"""The most bits (of 128) two hashes of one picture may differ by; measured in bench/likeness.py."""

MAX_PIXELS = 50_000_000
"""The largest picture decoded (width x height from the header); larger ones get no hash."""

MIN_SIDE = 32
"""The smallest width and height hashed, in pixels."""

MIN_CONTRAST = 2.0
"""The smallest standard deviation of the 32x32 grey thumbnail, in grey levels (0-255), hashed."""

_HEX_DIGITS = 32
_DRAFT_SIDE = 256  # a JPEG is decoded at a reduced scale no smaller than this (hashes read 32x32)


def perceptual_hash(data: bytes) -> str | None:
    """The hex hash of an image's bytes (first frame), or None when it is not one or too small or flat."""
    try:
        grey = _grey(data)
    except Exception:  # noqa: BLE001 - Pillow's decoders raise many types on hostile bytes; the answer is None
        return None
    if grey is None:
        return None
    thumbnail = numpy.asarray(grey.resize((32, 32), Image.Resampling.LANCZOS), dtype=numpy.float64)
    if thumbnail.std() < MIN_CONTRAST:
        return None
    return f"{imagehash.phash(grey)}{imagehash.dhash(grey)}"


def distance(a: str, b: str) -> int:
    """The number of bits two hex hashes of the same algorithm differ by (ValueError if they are not)."""
    if len(a) != _HEX_DIGITS or len(b) != _HEX_DIGITS:
        raise ValueError(f"not {ALGORITHM} hashes: {a!r}, {b!r}")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def alike(a: str, b: str) -> bool:
    """True when two hashes are of the same picture: distance(a, b) <= MAX_DISTANCE."""
    return distance(a, b) <= MAX_DISTANCE


def _grey(data: bytes) -> Image.Image | None:
    """The first frame in grey levels, transparency laid on white, upright; None if too large or small."""
    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
        if width * height > MAX_PIXELS or min(width, height) < MIN_SIDE:
            return None
        if im.format == "JPEG":
            im.draft(im.mode, (_DRAFT_SIDE, _DRAFT_SIDE))
        im.seek(0)
        im.load()
        frame = ImageOps.exif_transpose(im)
        if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
            rgba = frame.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            frame = Image.alpha_composite(white, rgba)
        elif frame.mode.startswith("I;16"):  # 16-bit grey: scaled, not clipped, to 8 bits
            frame = frame.convert("I").point(lambda v: v / 257)
        return frame.convert("L")
