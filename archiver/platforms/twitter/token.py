"""The `token` query parameter of cdn.syndication.twimg.com/tweet-result, as public clients compute it.

react-tweet and friends compute it in JavaScript:

    ((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\\.)/g, '')

The arithmetic is plain IEEE doubles, so Python's floats agree; `Number.prototype.toString(36)` on a
non-integer is V8's own shortest-unique-digits algorithm, ported below.
"""
from __future__ import annotations

import math
import re
import struct
from decimal import Decimal

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_SMALLEST_DENORMAL = math.nextafter(0.0, 1.0)
_STRIP = re.compile(r"(0+|\.)")
_DECIMAL_ID = re.compile(r"\s*[0-9]+\s*")


def _v8_exponent(x: float) -> int:
    """V8's Double::Exponent(): binary exponent of x as (53-bit integer significand) * 2**e."""
    biased = (struct.unpack("<Q", struct.pack("<d", x))[0] >> 52) & 0x7FF
    if biased == 0:
        return -1074
    return biased - 1075


def js_number_to_string(value: float, radix: int = 36) -> str:
    """Number.prototype.toString(radix) as V8 (Node, Chrome) computes it."""
    if not 2 <= radix <= 36:
        raise ValueError("radix must be between 2 and 36")
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "0"  # also -0: JS prints "0"
    if radix == 10:
        return _js_decimal(value)
    return _double_to_radix_cstring(value, radix)


def _js_decimal(value: float) -> str:
    """ECMAScript Number::toString(x) for radix 10, from Python's (equally shortest) repr digits."""
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = k + exponent  # value = 0.DIGITS * 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    tail = "." + digits[1:] if k > 1 else ""
    return f"{sign}{digits[0]}{tail}e{'+' if e >= 0 else '-'}{abs(e)}"


def _double_to_radix_cstring(value: float, radix: int) -> str:
    """Port of V8 src/numbers/conversions.cc DoubleToRadixCString (value finite, non-zero)."""
    negative = value < 0
    if negative:
        value = -value

    integer = math.floor(value)
    fraction = value - integer
    # Fraction digits are emitted only until they pin down this double and no other.
    delta = 0.5 * (math.nextafter(value, math.inf) - value)
    delta = max(_SMALLEST_DENORMAL, delta)

    frac: list[str] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            frac.append(_DIGITS[digit])
            fraction -= digit
            # Round half to even on the last digit, carrying into earlier digits when needed.
            if fraction > 0.5 or (fraction == 0.5 and (digit & 1)):
                if fraction + delta > 1:
                    while True:
                        if not frac:
                            integer += 1
                            break
                        last = _DIGITS.index(frac.pop())
                        if last + 1 < radix:
                            frac.append(_DIGITS[last + 1])
                            break
                    break
            if not fraction >= delta:
                break

    int_digits: list[str] = []
    # Digits below the double's precision are printed as zeros.
    while _v8_exponent(integer / radix) > 0:
        integer /= radix
        int_digits.append("0")
    while True:
        remainder = math.fmod(integer, radix)
        int_digits.append(_DIGITS[int(remainder)])
        integer = (integer - remainder) / radix
        if not integer > 0:
            break

    out = ("-" if negative else "") + "".join(reversed(int_digits))
    # A carry through every fraction digit leaves no fraction, and V8 then drops the point too.
    return out + "." + "".join(frac) if frac else out


def syndication_token(tweet_id: str | int) -> str:
    """The tweet-result `token` for a decimal tweet id, identical to react-tweet's getToken()."""
    if isinstance(tweet_id, bool) or not isinstance(tweet_id, (str, int)):
        raise TypeError(f"tweet id must be str or int, not {type(tweet_id).__name__}")
    if isinstance(tweet_id, str):
        if not _DECIMAL_ID.fullmatch(tweet_id):
            raise ValueError(f"not a decimal tweet id: {tweet_id!r}")
        tweet_id = int(tweet_id)
    # float(int) rounds to the nearest double, ties to even, exactly like JS Number("...").
    try:
        number = float(tweet_id)
    except OverflowError:  # JS Number() saturates to Infinity instead of raising
        number = math.inf if tweet_id > 0 else -math.inf
    value = (number / 1e15) * math.pi
    return _STRIP.sub("", js_number_to_string(value, 36))
