"""Per-endpoint rates and 429 pauses, in process and to the letter, on a virtual clock and a fixed wall clock.

Written for mutation testing (``bench/mutation.py``); no request is made here.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from archiver.config import DEFAULT_RATES
from archiver.fetch.rates import (
    MAX_PAUSE,
    MAX_SLOWDOWN,
    PAUSE_WITHOUT_RETRY_AFTER,
    EndpointPausedError,
    EndpointRates,
)
from tests.vclock import VirtualClock

WALL = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


class Wall:
    """A wall clock that stands still until moved."""

    def __init__(self, at=WALL):
        self.at = at

    def __call__(self):
        return self.at


def rates(table=None, wait_max=30.0, wall=None):
    clock = VirtualClock()
    wall = wall or Wall()
    return EndpointRates(table, wait_max=wait_max, clock=clock.now, sleep=clock.sleep, utcnow=wall), clock, wall


def test_the_defaults_are_the_published_rates_and_none_means_them():
    assert EndpointRates().rates == DEFAULT_RATES
    assert EndpointRates({}).rates == {}
    r, _, _ = rates({"cdx": 20, "off": 0})
    assert (r.interval("cdx"), r.interval("off"), r.interval("unknown")) == (3.0, 0.0, 0.0)


def test_starts_are_spaced_by_the_endpoints_interval():
    r, clock, _ = rates({"cdx": 30})
    for _ in range(3):
        r.wait("cdx")
    r.wait("other")
    assert clock.sleeps == [2.0, 2.0]


def test_an_unlimited_endpoint_never_waits():
    r, clock, _ = rates({})
    for _ in range(5):
        r.wait("free")
    assert clock.sleeps == []


def test_a_429_pauses_for_its_retry_after_then_halves_the_rate():
    r, clock, wall = rates({"cdx": 30})
    r.wait("cdx")
    r.throttled("cdx", 10.0)
    assert r.dirty is True and r.interval("cdx") == 4.0
    r.wait("cdx")
    assert sum(clock.sleeps) == pytest.approx(10.0)
    r.wait("cdx")
    assert sum(clock.sleeps) == pytest.approx(14.0)


@pytest.mark.parametrize("retry_after, pause", [(None, PAUSE_WITHOUT_RETRY_AFTER), (0, PAUSE_WITHOUT_RETRY_AFTER),
                                                (-5, PAUSE_WITHOUT_RETRY_AFTER), (5.0, 5.0),
                                                (1e12, MAX_PAUSE)])
def test_how_long_a_429_pauses(retry_after, pause):
    r, clock, wall = rates({}, wait_max=1e13)
    r.throttled("e", retry_after)
    [row] = r.export()
    assert row["paused_until"] == (WALL + timedelta(seconds=pause)).isoformat().replace("+00:00", "Z")


def test_a_pause_longer_than_a_run_waits_is_refused_with_when_to_come_back():
    r, clock, wall = rates({})
    r.throttled("cdx", 100.0)
    clock.t += 10
    with pytest.raises(EndpointPausedError) as caught:
        r.wait("cdx")
    exc = caught.value
    assert (exc.url, exc.retry_after) == ("cdx", 90.0)
    assert exc.message == "cdx asked us to wait (HTTP 429): paused for another 90s"
    assert clock.sleeps == []


def test_a_pause_of_exactly_the_longest_wait_is_waited():
    r, clock, wall = rates({}, wait_max=30.0)
    r.throttled("cdx", 30.0)
    r.wait("cdx")
    assert clock.sleeps == [30.0]


def test_a_shorter_429_never_shortens_a_pause():
    r, clock, wall = rates({}, wait_max=1000)
    r.throttled("e", 100.0)
    r.throttled("e", 5.0)
    r.wait("e")
    assert sum(clock.sleeps) == pytest.approx(100.0)


def test_repeated_429s_slow_down_to_a_limit():
    r, clock, wall = rates({"e": 60}, wait_max=1e9)
    for n in range(1, 9):
        r.throttled("e", 1.0)
        assert r.interval("e") == min(2 ** n, MAX_SLOWDOWN)
    [row] = r.export()
    assert (row["slowdown"], row["throttles"]) == (MAX_SLOWDOWN, 8)


def test_the_slowdown_ends_a_day_after_the_last_429():
    r, clock, wall = rates({"e": 60})
    r.throttled("e", 1.0)
    [row] = r.export()
    assert row["slowed_until"] == "2024-05-02T12:00:00Z" and row["throttled_at"] == "2024-05-01T12:00:00Z"
    wall.at = WALL + timedelta(hours=23)
    assert r.interval("e") == 2.0
    wall.at = WALL + timedelta(days=1)
    assert r.interval("e") == 1.0
    clock.t += 100
    assert r.export() == []


def test_a_429_while_a_request_waits_its_turn_makes_it_wait_the_pause_too():
    clock = VirtualClock()
    holder = {}

    def sleep(seconds):
        clock.sleep(seconds)
        if not holder.get("done"):
            holder["done"] = True
            holder["r"].throttled("e", 20.0)  # another worker got a 429 meanwhile

    r = EndpointRates({"e": 30}, clock=clock.now, sleep=sleep, utcnow=Wall())
    holder["r"] = r
    r.wait("e")
    r.wait("e")  # its turn comes after 2 s; the 429 then pauses it 20 s more
    assert clock.sleeps == [2.0, 20.0]


def test_admit_is_asked_while_waiting():
    r, clock, wall = rates({"e": 6})
    r.wait("e")
    asked = []
    r.wait("e", admit=lambda: asked.append(clock.t))
    assert len(asked) == 100 and clock.sleeps[-1] == pytest.approx(0.1)


def test_export_keeps_what_a_later_run_must_know_and_clears_dirty():
    r, clock, wall = rates({"a": 60, "b": 60}, wait_max=1000)
    r.wait("a")
    r.throttled("b", 50.0)
    clock.t += 20
    rows = r.export()
    assert rows == [{"endpoint": "b", "slowdown": 2, "slowed_until": "2024-05-02T12:00:00Z",
                     "paused_until": "2024-05-01T12:00:30Z", "throttled_at": "2024-05-01T12:00:00Z",
                     "throttles": 1}]
    assert r.dirty is False


def test_a_pause_without_slowdown_is_exported_and_sorted():
    r, clock, wall = rates({}, wait_max=1000)
    r.load([{"endpoint": "z", "paused_until": "2024-05-01T12:01:00Z"},
            {"endpoint": "a", "paused_until": "2024-05-01T12:02:00Z"}])
    assert [(row["endpoint"], row["slowdown"], row["paused_until"]) for row in r.export()] == [
        ("a", 1, "2024-05-01T12:02:00Z"), ("z", 1, "2024-05-01T12:01:00Z")]


def test_load_restores_what_is_not_over_yet():
    r, clock, wall = rates({"cdx": 60, "old": 60, "wild": 60}, wait_max=1000)
    r.load([
        {"endpoint": "cdx", "slowdown": 4, "slowed_until": "2024-05-01T18:00:00Z",
         "paused_until": "2024-05-01T12:00:40Z", "throttled_at": "2024-05-01T11:00:00Z", "throttles": 3},
        {"endpoint": "old", "slowdown": 8, "slowed_until": "2024-05-01T11:00:00Z",
         "paused_until": "2024-05-01T11:59:00Z", "throttled_at": None, "throttles": None},
        {"endpoint": "wild", "slowdown": 1000, "slowed_until": "2024-05-01T18:00:00Z"},
    ])
    assert (r.interval("cdx"), r.interval("old"), r.interval("wild")) == (4.0, 1.0, 64.0)
    rows = {row["endpoint"]: row for row in r.export()}
    assert set(rows) == {"cdx", "wild"}
    assert rows["cdx"] == {"endpoint": "cdx", "slowdown": 4, "slowed_until": "2024-05-01T18:00:00Z",
                           "paused_until": "2024-05-01T12:00:40Z", "throttled_at": "2024-05-01T11:00:00Z",
                           "throttles": 3}
    assert rows["wild"]["throttles"] == 0 and rows["wild"]["throttled_at"] is None
    r.wait("cdx")
    assert sum(clock.sleeps) == pytest.approx(40.0)
    r.wait("old")
    assert sum(clock.sleeps) == pytest.approx(40.0)


@pytest.mark.parametrize("slowdown, kept", [(0, 1), (None, 1), (-3, 1), (3, 3), (64, 64), (65, 64)])
def test_a_loaded_slowdown_is_clamped(slowdown, kept):
    r, clock, wall = rates({"e": 60})
    r.load([{"endpoint": "e", "slowdown": slowdown, "slowed_until": "2024-05-01T13:00:00Z"}])
    assert r.interval("e") == float(kept)


def test_a_loaded_pause_never_shortens_a_longer_one():
    r, clock, wall = rates({}, wait_max=1000)
    r.throttled("e", 100.0)
    r.load([{"endpoint": "e", "paused_until": "2024-05-01T12:00:10Z"}])
    r.wait("e")
    assert sum(clock.sleeps) == pytest.approx(100.0)


def test_a_new_table_waits_at_most_30_s_and_has_nothing_to_keep():
    r = EndpointRates({})
    assert (r.wait_max, r.dirty) == (30.0, False)


def test_a_rate_under_one_a_minute_is_still_a_rate():
    r, clock, wall = rates({"slow": 0.5})
    assert r.interval("slow") == 120.0


def test_a_short_retry_after_is_honoured_as_given():
    r, clock, wall = rates({})
    r.throttled("e", 0.5)
    r.wait("e")
    assert clock.sleeps == [0.5]


def test_a_slowed_endpoint_that_is_not_paused_exports_now_as_its_pause():
    r, clock, wall = rates({"e": 60}, wait_max=1000)
    r.throttled("e", 10.0)
    clock.t += 100
    [row] = r.export()
    assert row["paused_until"] == "2024-05-01T12:00:00Z"


def test_a_pause_that_ends_now_is_over():
    r, clock, wall = rates({}, wait_max=1000)
    r.load([{"endpoint": "e", "paused_until": "2024-05-01T12:00:10Z"}])
    clock.t += 10
    assert r.export() == []


def test_a_slowdown_that_ends_now_is_not_loaded():
    r, clock, wall = rates({"e": 60})
    r.load([{"endpoint": "e", "slowdown": 4, "slowed_until": "2024-05-01T12:00:00Z"}])
    assert r.export() == []
    assert r.interval("e") == 1.0


def test_a_loaded_pause_of_half_a_second_is_kept():
    r, clock, wall = rates({}, wait_max=1000)
    r.load([{"endpoint": "e", "paused_until": "2024-05-01T12:00:00.500000Z"}])
    r.wait("e")
    assert clock.sleeps == [0.5]
