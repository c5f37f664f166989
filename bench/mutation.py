"""Mutation testing of the modules where a silent bug costs most, one module at a time; the score of each.

    pip install -e '.[test,mutation]'
    python bench/mutation.py                 # every module below, from scratch
    python bench/mutation.py http retry      # some of them
    python bench/mutation.py --keep http     # reuse mutants/http/ (mutmut re-tests what changed)

Slow, so not part of the suite. For each module, a work folder ``mutants/<module>/`` holds links to
``archiver/`` and ``tests/`` and a ``pyproject.toml`` whose ``[tool.mutmut]`` is the project's with this
module's file and tests; mutmut copies the project into ``mutants/<module>/mutants/`` and tests each
mutant with the selected tests that reach the mutated function (never the full suite). Every run loads
``tests.mutation_guard``: no lookup or connection leaves loopback, whatever a mutant breaks.

Prints per module: mutants, killed (timeouts count as killed), survived, the survivors explained as
equivalent in ``bench/mutation-equivalent.md``, and the score killed / mutants. To read a survivor:
``cd mutants/<module> && mutmut show NAME``.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"
EQUIVALENT = ROOT / "bench" / "mutation-equivalent.md"
SAMPLES = ROOT.parent / "shared" / "samples"

# name -> (the file mutated, the tests run against it, the functions scored (None: all of the file)).
# HTTP policy is tested only through the resolver/dialer seams of tests/test_network.py (and the same
# seams in test_mutants_http.py): a broken private-address check ends in a refused dial on loopback.
MODULES = {
    "http": ("archiver/fetch/http.py", ["tests/test_network.py", "tests/test_mutants_http.py"], None),
    "net": ("archiver/fetch/net.py", ["tests/test_network.py", "tests/test_mutants_http.py"], None),
    "retry": ("archiver/fetch/retry.py", ["tests/test_retry.py", "tests/test_mutants_retry.py"], None),
    "rates": ("archiver/fetch/rates.py", ["tests/test_mutants_rates.py", "tests/test_mutants_retry.py"], None),
    "resolve": ("archiver/platforms/twitter/resolve.py",
                ["tests/test_resolve.py", "tests/test_mutants_resolve.py"], None),
    "verify": ("archiver/evidence/verify.py", ["tests/test_mutants_verify.py"], None),
    # The browse pages' escaping: what turns untrusted text and URLs into markup and links.
    "browse": ("archiver/browse/web.py",
               ["tests/test_mutants_browse.py", "tests/test_browse.py::test_linkify_never_makes_an_unsafe_link"],
               ["safe_url", "linkify", "profile_url", "_q"]),
}
KILLED = {1, 3, 36, 24, -24, 152, 255}  # mutmut's exit codes for killed and timeout
SURVIVED = {0}


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _table(name: str, values: dict) -> str:
    return f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items()) + "\n"


def prepare(name: str, keep: bool) -> Path:
    """mutants/<name>/: links to the code and tests, and the project's settings narrowed to this module."""
    source, tests, _ = MODULES[name]
    folder = WORK / name
    if folder.exists() and not keep:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for link in ("archiver", "tests"):
        if not (folder / link).exists():
            (folder / link).symlink_to(ROOT / link, target_is_directory=True)
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    settings = dict(tool["mutmut"], only_mutate=[source], pytest_add_cli_args_test_selection=tests)
    (folder / "pyproject.toml").write_text(
        _table("tool.pytest.ini_options", tool["pytest"]["ini_options"]) + _table("tool.mutmut", settings))
    return folder


def mutant_globs(name: str) -> list[str]:
    source, _, functions = MODULES[name]
    module = source[:-3].replace("/", ".")
    return [f"{module}.x_{f}__mutmut_*" for f in functions] if functions else []


def results(name: str) -> dict[str, int | None]:
    """Exit code by mutant name, for the functions scored."""
    source, _, _ = MODULES[name]
    meta = json.loads((WORK / name / "mutants" / f"{source}.meta").read_text())
    codes = meta["exit_code_by_key"]
    globs = mutant_globs(name)
    return {k: v for k, v in codes.items() if not globs or any(fnmatch.fnmatch(k, g) for g in globs)}


def equivalent_names() -> set[str]:
    """The mutants explained as equivalent: every full name in the list, and each `_N` after one (same function)."""
    if not EQUIVALENT.exists():
        return set()
    names, prefix = set(), None
    for token in re.findall(r"`([^`]+)`", EQUIVALENT.read_text()):
        full = re.fullmatch(r"(archiver\.[\w.]+__mutmut)_\d+", token)
        if full:
            names.add(token)
            prefix = full.group(1)
        elif prefix and re.fullmatch(r"_\d+", token):
            names.add(prefix + token)
    return names


def run(name: str, keep: bool, children: int) -> dict:
    folder = prepare(name, keep)
    env = dict(os.environ)
    if SAMPLES.is_dir():
        env.setdefault("ARCHIVER_SAMPLES_DIR", str(SAMPLES))
    started = time.monotonic()
    done = subprocess.run(["mutmut", "run", "--max-children", str(children), *mutant_globs(name)], cwd=folder,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - started
    (folder / "run.log").write_text(done.stdout)
    if done.returncode != 0:
        sys.stdout.write(done.stdout[-3000:])
        raise SystemExit(f"mutmut failed on {name} (exit {done.returncode}); log in {folder / 'run.log'}")
    codes = results(name)
    equivalent = equivalent_names()
    survivors = sorted(k for k, v in codes.items() if v in SURVIVED)
    other = sorted(k for k, v in codes.items() if v not in SURVIVED and v not in KILLED)
    return {"module": name, "total": len(codes), "killed": sum(v in KILLED for v in codes.values()),
            "survived": len(survivors), "equivalent": sum(s in equivalent for s in survivors),
            "unexplained": [s for s in survivors if s not in equivalent], "other": other, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"some of: {', '.join(MODULES)} (default: all)")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/<module>/ instead of starting afresh")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--json", action="store_true", help="print the scores as JSON lines")
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    rows = []
    header = f"{'module':<8} {'mutants':>7} {'killed':>6} {'survived':>8} {'equivalent':>10} {'score':>7}  time"
    print(header, flush=True)
    for name in args.modules or list(MODULES):
        row = run(name, args.keep, args.max_children)
        rows.append(row)
        score = 100.0 * row["killed"] / row["total"] if row["total"] else 0.0
        print(f"{name:<8} {row['total']:>7} {row['killed']:>6} {row['survived']:>8} {row['equivalent']:>10} "
              f"{score:>6.1f}%  {row['seconds']:.0f}s", flush=True)
        for survivor in row["unexplained"]:
            print(f"    survived, not explained: {survivor}")
        for mutant in row["other"]:
            print(f"    not killed nor survived ({results(name)[mutant]}): {mutant}")
    if args.json:
        for row in rows:
            print(json.dumps(row))


if __name__ == "__main__":
    main()
