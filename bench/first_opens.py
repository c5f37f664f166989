"""200 processes opening one new archive at the same moment, repeated: how many fail (the goal: none).

    python bench/first_opens.py [--processes 200] [--rounds 5]

Each round forks the processes, releases them together through a barrier, and each opens (creates,
switches to WAL, migrates) the same new archive. Prints failures per round and the time a round took,
against a baseline round of the same processes opening archives of their own.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.store.db import open_db  # noqa: E402


def _worker(path: str, barrier, results) -> None:
    barrier.wait(timeout=120)
    try:
        open_db(path).close()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - counted and shown
        results.put(f"{type(exc).__name__}: {exc}")


def _round(paths: list[str]) -> tuple[list[str], float]:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(paths)), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(p, barrier, results)) for p in paths]
    start = time.perf_counter()
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return [o for o in outcomes if o != "ok"], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            own = [str(Path(tmp) / f"own-{r}-{i}.db") for i in range(args.processes)]
            _, baseline = _round(own)
            failed, shared = _round([str(Path(tmp) / f"shared-{r}.db")] * args.processes)
            total += len(failed)
            print(json.dumps({"round": r, "processes": args.processes, "failed": len(failed),
                              "first_failure": failed[0] if failed else None, "seconds": round(shared, 2),
                              "ratio_to_own_archives": round(shared / baseline, 2)}), flush=True)
    print(json.dumps({"opens": args.processes * args.rounds, "failed": total, "ok": total == 0}))


if __name__ == "__main__":
    main()
