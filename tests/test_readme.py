"""The README shows what the program prints (issue 11 #5): its first-hour console blocks are run, in order,
on a copy of seeds/ with no network (every name lookup fails at once, as on a machine offline: nothing
leaves the machine), and compared line by line, times aside."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.conftest import ROOT, SEEDS

README = ROOT / "README.md"
SHOWN = ("archiver archive seeds/", "archiver archive --no-fetch missing.html seeds/", "archiver detect seeds/ | head -1",
         "archiver status")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def blocks() -> dict[str, list[str]]:
    """Each shown command's output lines, as the README has them (its first block per command)."""
    found: dict[str, list[str]] = {}
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        lines = block.rstrip("\n").split("\n")
        if lines[0].startswith("$ ") and lines[0][2:] in SHOWN and lines[0][2:] not in found:
            found[lines[0][2:]] = lines[1:]
    return found


def normal(line: str, shown: str | None = None) -> str:
    """A line with its times taken out; a JSON line's ``raw`` as the README abbreviates it."""
    line = _TIME.sub("<time>", line)
    if shown is not None and line.startswith("{") and '"raw": "..."' in shown:
        data = json.loads(line)
        data["raw"] = "..."
        line = json.dumps(data, ensure_ascii=False)
    return line


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """A folder holding a copy of seeds/, and a network whose every name lookup fails at once."""
    from archiver.fetch import net

    def no_dns(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    defaults = list(net.Network.__init__.__defaults__)
    defaults[0] = no_dns
    monkeypatch.setattr(net.Network.__init__, "__defaults__", tuple(defaults))
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_DB", raising=False)
    return tmp_path


def test_the_readme_shows_what_the_first_commands_print(offline):
    shown = blocks()
    assert set(shown) == set(SHOWN), "every command this test runs has its block in the README"
    for command in SHOWN:  # in this order, in one folder: the README's story
        args = shlex.split(command.split(" | ")[0])[1:]
        result = CliRunner().invoke(cli, args)
        lines = result.output.rstrip("\n").split("\n")
        if "| head -1" in command:
            lines = lines[:1]
        expected = shown[command]
        assert [normal(a, e) for a, e in zip(lines, expected)] == [normal(e) for e in expected] and \
            len(lines) == len(expected), f"README block of `{command}` differs from what it prints:\n" + \
            "\n".join(lines)
