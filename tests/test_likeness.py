"""archiver.fetch.likeness: one picture found again after re-encoding and resizing; others not; bad bytes give None."""
from __future__ import annotations

import io
import random
import struct
import zlib

import numpy
import pytest
from PIL import Image, ImageDraw, ImageFile

from archiver.fetch import likeness
from archiver.fetch.likeness import MAX_DISTANCE, alike, distance, perceptual_hash

W, H = 320, 240


def scene(objects_seed: int = 1, *, texture_seed: int = 7, shift: tuple[int, int] = (0, 0)) -> Image.Image:
    """A drawn picture: a sky-to-ground gradient, a sun, hills, then objects placed by objects_seed, with grain."""
    im = Image.new("RGB", (W, H))
    draw = ImageDraw.Draw(im)
    for y in range(H):  # the background every scene shares
        t = y / H
        colour = (int(90 + 120 * t), int(150 + 60 * t), int(235 - 150 * t)) if y < H * 0.55 else (
            int(60 + 60 * t), int(120 - 40 * t), int(40 + 20 * t))
        draw.line([(0, y), (W, y)], fill=colour)
    draw.ellipse((240, 20, 290, 70), fill=(250, 230, 120))
    draw.polygon([(0, 150), (90, 100), (170, 150)], fill=(70, 110, 60))
    rng = random.Random(objects_seed)
    dx, dy = shift
    for _ in range(6):
        x, y = rng.randint(0, W - 80) + dx, rng.randint(60, H - 70) + dy
        w, h = rng.randint(30, 80), rng.randint(30, 70)
        fill = tuple(rng.randint(0, 255) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=fill, outline=(0, 0, 0))
        else:
            draw.ellipse((x, y, x + w, y + h), fill=fill, outline=(0, 0, 0))
    grain = random.Random(texture_seed)
    px = im.load()
    for _ in range(W * H // 6):
        x, y = grain.randrange(W), grain.randrange(H)
        r, g, b = px[x, y]
        n = grain.randint(-25, 25)
        px[x, y] = (max(0, min(255, r + n)), max(0, min(255, g + n)), max(0, min(255, b + n)))
    return im


def texture(seed: int) -> Image.Image:
    """A coarse random texture: 16-pixel tiles of random grey, then smoothed a little by upscaling."""
    rng = random.Random(seed)
    small = Image.new("L", (W // 16, H // 16))
    small.putdata([rng.randint(0, 255) for _ in range((W // 16) * (H // 16))])
    return small.resize((W, H), Image.Resampling.BILINEAR).convert("RGB")


def encode(im: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height over one tiny (short) data chunk."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


ORIGINAL = perceptual_hash(encode(scene()))


def test_a_hash_is_hex_of_the_documented_width():
    assert likeness.ALGORITHM == "phash64+dhash64"
    assert ORIGINAL is not None and len(ORIGINAL) == 32
    int(ORIGINAL, 16)
    assert perceptual_hash(encode(scene())) == ORIGINAL  # deterministic


def test_stored_hashes_stay_comparable():
    # Measured when the algorithm was chosen (imagehash 4.3.2, Pillow 13.0). A library upgrade that moves
    # this by more than a few bits makes every stored hash incomparable: change ALGORITHM and re-hash.
    assert distance(ORIGINAL, "8fb1704c3bca587aa6769e6964a46428") <= 4


@pytest.mark.parametrize("copy", [
    pytest.param(lambda im: encode(im, "JPEG", quality=35), id="jpeg-q35"),
    pytest.param(lambda im: encode(im, "JPEG", quality=92), id="jpeg-q92"),
    pytest.param(lambda im: encode(im.resize((W // 2, H // 2), Image.Resampling.LANCZOS), "JPEG", quality=80),
                 id="half-size-jpeg"),
    pytest.param(lambda im: encode(im.resize((W * 2, H * 2), Image.Resampling.BICUBIC)), id="double-size-png"),
    pytest.param(lambda im: encode(im.resize((W * 8, H * 8), Image.Resampling.BICUBIC), "JPEG", quality=85),
                 id="8x-jpeg-decoded-at-reduced-scale"),
    pytest.param(lambda im: encode(im.crop((8, 6, W - 8, H - 6)), "WEBP", quality=70), id="cropped-3%-webp"),
    pytest.param(lambda im: encode(im.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"), id="gif-256-colours"),
    pytest.param(lambda im: encode(Image.fromarray(numpy.asarray(im.convert("L"), dtype=numpy.uint16) * 257)),
                 id="16-bit-grey-png"),
])
def test_the_same_picture_reencoded_or_resized_is_alike(copy):
    other = perceptual_hash(copy(scene()))
    assert other is not None
    assert alike(ORIGINAL, other), distance(ORIGINAL, other)


@pytest.mark.parametrize("different", [
    pytest.param(lambda: scene(objects_seed=2), id="same-background-other-objects"),
    pytest.param(lambda: scene(objects_seed=3), id="same-background-third-objects"),
    pytest.param(lambda: scene(shift=(60, -30)), id="same-objects-moved"),
])
def test_a_different_picture_of_the_same_scene_is_not_alike(different):
    other = perceptual_hash(encode(different()))
    assert other is not None
    assert not alike(ORIGINAL, other), distance(ORIGINAL, other)


def test_different_random_textures_are_not_alike():
    a, b = perceptual_hash(encode(texture(1))), perceptual_hash(encode(texture(2)))
    assert a is not None and b is not None
    assert not alike(a, b), distance(a, b)


def test_the_grain_alone_does_not_make_another_picture():
    other = perceptual_hash(encode(scene(texture_seed=8), "JPEG", quality=60))
    assert alike(ORIGINAL, other), distance(ORIGINAL, other)


def test_a_gif_is_hashed_by_its_first_frame():
    first, second = scene(), texture(5)
    buf = io.BytesIO()
    first.save(buf, "GIF", save_all=True, append_images=[second], duration=100)
    assert alike(ORIGINAL, perceptual_hash(buf.getvalue()))
    assert not alike(perceptual_hash(encode(second)), perceptual_hash(buf.getvalue()))


def test_transparency_is_laid_on_white():
    on_white = Image.new("RGB", (W, H), (255, 255, 255))
    cut_out = Image.new("RGBA", (W, H), (0, 0, 0, 0))  # transparent pixels are black underneath
    for im, ink in ((on_white, (20, 40, 160)), (cut_out, (20, 40, 160, 255))):
        draw = ImageDraw.Draw(im)
        draw.ellipse((40, 30, 200, 190), fill=ink)
        draw.rectangle((210, 120, 300, 220), fill=ink)
    assert perceptual_hash(encode(cut_out)) == perceptual_hash(encode(on_white)) is not None


def test_exif_rotation_is_applied():
    rotated = scene().transpose(Image.Transpose.ROTATE_90)  # stored sideways, with "turn me back" in EXIF
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 clockwise to display
    assert alike(ORIGINAL, perceptual_hash(encode(rotated, "JPEG", quality=90, exif=exif)))


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"not an image at all" * 50, id="text"),
    pytest.param(bytes(random.Random(3).randrange(256) for _ in range(4096)), id="random-bytes"),
    pytest.param(b"\xff\xd8\xff\xe0" + bytes(500), id="jpeg-magic-then-zeros"),
    pytest.param(encode(scene(), "JPEG", quality=80)[:3000], id="truncated-jpeg"),
    pytest.param(encode(scene())[:-200], id="truncated-png"),
    pytest.param(png_header(100_000, 100_000), id="bomb-header-past-pillows-limit"),
    pytest.param(png_header(8_000, 8_000), id="bomb-header-past-our-cap"),
])
def test_bytes_that_are_not_a_decodable_image_give_none(data):
    assert perceptual_hash(data) is None


def test_an_image_declared_too_large_is_not_decoded(monkeypatch):
    decoded = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or load(self))
    assert perceptual_hash(png_header(8_000, 8_000)) is None
    assert decoded == []
    assert perceptual_hash(encode(scene())) == ORIGINAL  # the spy does see an ordinary decode
    assert set(decoded) == {(W, H)}


@pytest.mark.parametrize("im", [
    pytest.param(Image.new("RGB", (1, 1), (200, 10, 10)), id="1x1"),
    pytest.param(scene().resize((31, 24)), id="under-32-pixels"),
    pytest.param(Image.new("RGB", (400, 300), (30, 120, 200)), id="flat-colour"),
    pytest.param(Image.new("RGBA", (400, 300), (0, 0, 0, 0)), id="fully-transparent"),
])
def test_too_small_or_flat_pictures_give_none(im):
    assert perceptual_hash(encode(im)) is None


def test_a_nearly_flat_picture_gives_none_and_a_faint_one_a_hash():
    flat = Image.new("RGB", (400, 300), (128, 128, 128))
    assert perceptual_hash(encode(flat, "JPEG", quality=30)) is None  # compression noise is not a picture
    faint = Image.new("L", (400, 300), 128)
    ImageDraw.Draw(faint).rectangle((0, 0, 199, 299), fill=136)  # two halves 8 grey levels apart
    assert perceptual_hash(encode(faint)) is not None


def test_mangled_images_never_raise():
    rng = random.Random(11)
    originals = [encode(scene(), "JPEG", quality=75), encode(scene()), encode(scene(), "WEBP"), encode(scene(), "GIF")]
    answers = set()
    for body in originals:
        for _ in range(25):
            mangled = bytearray(body)
            for _ in range(rng.randint(1, 20)):
                mangled[rng.randrange(len(mangled))] = rng.randrange(256)
            answer = perceptual_hash(bytes(mangled))
            assert answer is None or len(answer) == 32
            answers.add(answer is None)
    assert answers == {True, False}  # both kinds happened: the mangling reached the decoders


def test_distance_counts_differing_bits():
    zero = "0" * 32
    assert distance(zero, zero) == 0
    assert distance(zero, "f" * 32) == 128
    assert distance("0" * 31 + "1", "0" * 31 + "2") == 2
    with pytest.raises(ValueError):
        distance(zero, "0" * 16)


def test_alike_is_within_max_distance():
    zero = "0" * 32
    at_limit = f"{(1 << MAX_DISTANCE) - 1:032x}"
    past_limit = f"{(1 << (MAX_DISTANCE + 1)) - 1:032x}"
    assert distance(zero, at_limit) == MAX_DISTANCE
    assert alike(zero, at_limit)
    assert not alike(zero, past_limit)
