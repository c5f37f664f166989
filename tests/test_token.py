"""syndication_token() against the JavaScript it ports, run by a real `node`."""
from __future__ import annotations

import json
import math
import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from archiver.platforms.twitter.token import js_number_to_string, syndication_token

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="`node` is not on PATH; the JS reference cannot run")

# Reference output of `((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\.)/g, '')`
# computed with node v20.20.2 (V8 11.3), kept so these run without node.
KNOWN = {
    "1641086480675225601": "3z7miaszni8",  # photo sample
    "1641895049427550208": "3za5ye2w3ov",  # quoted-tweet sample
    "1629262255744503809": "3y6h7x4gn61",  # card sample
    "1703436713362870723": "44ni5iyte19",  # reveddit card sample
    "1684218600456876032": "42z4mwgp9h8",  # video sample
    "2023357708301455483": "4wkkd5uwebk",  # 2026 text sample
    "20": "6dq1a2xwd93",
    "1": "bhi2ay3f28n",
    "0": "",
    "9223372036854775807": "mcw2svce2ao",
}

# Number.prototype.toString(radix) reference values from the same node.
KNOWN_RADIX = [
    (0.5, 36, "0.i"),
    (1 / 3, 36, "0.c"),
    (0.1, 2, "0.0001100110011001100110011001100110011001100110011001101"),
    (123.456, 16, "7b.74bc6a7ef9dc"),
    (-2.5, 36, "-2.i"),
    (1e21, 10, "1e+21"),
    (123e-20, 10, "1.23e-18"),
    (0.000001, 10, "0.000001"),
    (1e21, 36, "5v1j4f4ds7c000"),
    (2**53 + 2, 7, "5350140446150306056"),
    (5e-324, 36, "0." + "0" * 207 + "3"),
]


def sample_ids() -> list[str]:
    """Tweet ids mentioned in the sample file names (empty when the samples are absent)."""
    if not SAMPLES.is_dir():
        return []
    ids = []
    for path in sorted(SAMPLES.iterdir()):
        digits = path.stem.rsplit("_", 1)[-1]
        if digits.isdigit() and len(digits) > 15:
            ids.append(digits)
    return ids


def generated_ids(n: int = 2000, seed: int = 20230726) -> list[str]:
    """Snowflake-sized ids from 10**15 to 2**63, small ids, edges, and the sample ids."""
    rng = random.Random(seed)
    ids = set(KNOWN) | set(sample_ids())
    ids.update(str(i) for i in range(0, 60))
    ids.update(str(10**k) for k in range(0, 20))
    ids.update(str(2**k + d) for k in range(40, 64) for d in (-1, 0, 1))
    ids.update(str(rng.randrange(1, 10**15)) for _ in range(200))
    # Snowflakes: a millisecond timestamp shifted past 22 bits of worker and sequence.
    ids.update(str((rng.randrange(0, 2**41) << 22) | rng.randrange(0, 2**22)) for _ in range(300))
    while len(ids) < n:
        ids.add(str(rng.randrange(10**15, 2**63)))
    return sorted(ids, key=lambda s: (len(s), s))


def run_node(script: str, payload: object) -> list[str]:
    """Run one node process, feeding JSON on stdin, and return its output lines."""
    proc = subprocess.run(
        [NODE, "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return proc.stdout.splitlines()


NODE_TOKENS = """
let input = '';
process.stdin.on('data', c => input += c);
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(id => ((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\\.)/g, ''));
  process.stdout.write(out.map(t => JSON.stringify(t)).join('\\n') + '\\n');
});
"""

NODE_RADIX = """
let input = '';
process.stdin.on('data', c => input += c);
process.stdin.on('end', () => {
  const buf = Buffer.alloc(8);
  const out = JSON.parse(input).map(([hex, radix]) => {
    buf.write(hex, 'hex');
    return buf.readDoubleBE(0).toString(radix);
  });
  process.stdout.write(out.map(t => JSON.stringify(t)).join('\\n') + '\\n');
});
"""


@pytest.mark.parametrize("tweet_id,expected", sorted(KNOWN.items()))
def test_known_tokens(tweet_id, expected):
    assert syndication_token(tweet_id) == expected
    assert syndication_token(int(tweet_id)) == expected


@pytest.mark.parametrize("value,radix,expected", KNOWN_RADIX)
def test_known_radix_strings(value, radix, expected):
    assert js_number_to_string(value, radix) == expected


def test_specials():
    assert js_number_to_string(math.nan) == "NaN"
    assert js_number_to_string(math.inf) == "Infinity"
    assert js_number_to_string(-0.0) == "0"
    assert syndication_token(" 20 ") == syndication_token(20)


@pytest.mark.parametrize("bad", ["", "abc", "12a", "1.5", "-", None, 1.5, True])
def test_rejects_non_ids(bad):
    with pytest.raises((ValueError, TypeError)):
        syndication_token(bad)


@needs_node
def test_tokens_match_node_for_2000_ids():
    ids = generated_ids()
    assert len(ids) >= 2000
    expected = [json.loads(line) for line in run_node(NODE_TOKENS, ids)]
    assert len(expected) == len(ids)
    mismatches = [(i, e, syndication_token(i)) for i, e in zip(ids, expected) if syndication_token(i) != e]
    assert mismatches == []


def random_doubles(n: int = 3000, seed: int = 7) -> list[tuple[float, int]]:
    """Doubles of every magnitude (tiny, denormal, above 2**53, huge) paired with radixes 2..36."""
    rng = random.Random(seed)
    out: list[tuple[float, int]] = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.4:
            value = rng.uniform(0, 30000)  # the token range
        elif kind < 0.7:
            value = math.ldexp(rng.random() + 0.5, rng.randrange(-1074, 1024))
        elif kind < 0.8:
            value = rng.randrange(1, 2**63) / rng.choice([1, 7, 1e15, 3e-7])
        else:
            value = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if not math.isfinite(value) or value == 0:
            value = 1.0 / 3
        if rng.random() < 0.2:
            value = -value
        pick = rng.random()
        radix = 36 if pick < 0.4 else 10 if pick < 0.55 else rng.randrange(2, 37)
        out.append((value, radix))
    return out


@needs_node
def test_radix_strings_match_node_for_random_doubles():
    cases = random_doubles()
    payload = [[struct.pack(">d", v).hex(), r] for v, r in cases]
    expected = [json.loads(line) for line in run_node(NODE_RADIX, payload)]
    assert len(expected) == len(cases)
    mismatches = [(v.hex(), r, e) for (v, r), e in zip(cases, expected) if js_number_to_string(v, r) != e]
    assert mismatches == []
