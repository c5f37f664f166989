"""The README shows what the program prints (issue 11 #5): its console blocks are run, in order, in one
folder, as a user would, and compared line by line, times aside. Nothing leaves the machine: every name
lookup fails at once (as offline), every connection off loopback is refused, and the walk-through's
endpoints are a stand-in server and a Time-Stamp Authority on 127.0.0.1. On a difference the assertion
prints the block as it should read, ready to paste into README.md."""
from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.built import SEED_TWEETS, tweet_json, write_config
from tests.conftest import ROOT, SEEDS
from tests.responses import PHOTO_ID
from tests.test_fetch import PHOTO_PATH, blockquote
from tests.upstream import fake_media, oembed_routes, syndication_routes, wayback_routes

README = ROOT / "README.md"
SHOWN = ("archiver archive seeds/", "archiver archive --no-fetch missing.html seeds/", "archiver detect seeds/ | head -1",
         "archiver status")
# Blocks no test runs, and why (every other console block is run by one of the two tests below).
UNCHECKED = {"archiver init-config            # writes a commented archiver.toml":
             "the daemon runs until stopped; its log lines come at its cron times"}
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
_VOLATILE = (
    (re.compile(r"\d{8}T\d{6}Z"), "<time>"),  # evidence-<time>.txt, the evidence list's name
    (re.compile(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT"), "<time>"),  # openssl's time stamp
    # a package's size: its files hold times, and its WARC records the stand-in server's port, compressed
    (re.compile(r'"bytes": \d+'), '"bytes": <n>'), (re.compile(r"\(\d+ bytes\)"), "(<n> bytes)"),
)


def console_blocks() -> list[list[str]]:
    """The lines of every ```console block of the README, indented ones (in list items) dedented."""
    text = README.read_text(encoding="utf-8")
    return [[line[len(indent):] for line in body.rstrip("\n").split("\n")]
            for indent, body in re.findall(r"^( *)```console\n(.*?)^\1```", text, re.DOTALL | re.MULTILINE)]


def first_hour(found: list[list[str]]) -> dict[str, int]:
    """Each first-hour command's block: the first block that starts with it."""
    index: dict[str, int] = {}
    for i, lines in enumerate(found):
        if lines[0].startswith("$ ") and lines[0][2:] in SHOWN:
            index.setdefault(lines[0][2:], i)
    return index


def blocks() -> dict[str, list[str]]:
    """Each first-hour command's output lines, as the README has them."""
    found = console_blocks()
    return {command: found[i][1:] for command, i in first_hour(found).items()}


def normal(line: str, shown: str | None = None) -> str:
    """A line with its times (and a package's size) taken out; a JSON line's ``raw`` as the README
    abbreviates it; no trailing blanks (a prompt's)."""
    line = _TIME.sub("<time>", line).rstrip()
    for pattern, replacement in _VOLATILE:
        line = pattern.sub(replacement, line)
    if shown is not None and line.startswith("{") and '"raw": "..."' in shown:
        data = json.loads(line)
        data["raw"] = "..."
        line = json.dumps(data, ensure_ascii=False)
    return line


def matches(printed: list[str], shown: list[str]) -> bool:
    """Whether printed lines are the shown ones; a shown line ``...`` stands for any number of lines."""
    if not shown:
        return not printed
    if shown[0] == "...":
        return any(matches(printed[i:], shown[1:]) for i in range(len(printed) + 1))
    return bool(printed) and normal(printed[0], shown[0]) == normal(shown[0]) and matches(printed[1:], shown[1:])


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


# --------------------------------------------------------------------------- the walk-through


class Shell:
    """Runs shown command lines in a folder and keeps what each printed (stdout and stderr, as a terminal
    shows them): archiver in-process, anything else (wacz, openssl, head) in bash. The folder, a temporary
    one, is printed as /srv/archive, the README's example folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.printed: dict[str, list[str]] = {}  # normal(command) -> lines
        self.commands: dict[str, str] = {}  # normal(command) -> command as run

    def __call__(self, command: str, cwd: str = ".", input: str | None = None) -> None:
        if command.startswith("archiver "):
            assert cwd == "."
            result = CliRunner().invoke(cli, shlex.split(command, comments=True)[1:], input=input)
            if result.exception and not isinstance(result.exception, SystemExit):
                raise result.exception
            output = result.output
        else:
            env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
            done = subprocess.run(["bash", "-c", command], cwd=self.folder / cwd, input=input, env=env, text=True,
                                  check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            output = done.stdout
        for path in {str(self.folder.resolve()), str(self.folder)}:
            output = output.replace(path, "/srv/archive")
        self.printed[normal(command)] = output.rstrip("\n").split("\n")
        self.commands[normal(command)] = command


@pytest.fixture
def loopback_only(monkeypatch):
    """Any TCP connection this process opens off loopback is refused (a second wall behind the config)."""
    connect = socket.socket.connect

    def loopback(host: str) -> bool:
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return host == "localhost"

    def guarded(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            raise ConnectionRefusedError(f"test: {address[0]} is not reached from tests")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def test_the_readme_shows_what_the_walk_through_prints(offline, loopback_only, upstream, tsa, monkeypatch):
    folder = offline
    # The stand-in server: the project's built syndication, oEmbed and Wayback answers, the photo tweet's
    # photo, and the seed's tweets (t.co, syndication, photos); archiver.toml points every endpoint at it,
    # and at the local TSA, whose root the user keeps in tsa-ca/.
    syndication_routes(upstream, oembed=False)
    oembed_routes(upstream)
    wayback_routes(upstream)
    upstream.route(PHOTO_PATH, fake_media("photo.jpg", 50_000), content_type="image/jpeg")
    for t in SEED_TWEETS:
        upstream.tco(t.code, handle=t.handle, tweet_id=t.tweet_id, mode="redirect")
        upstream.route("/tweet-result", tweet_json(t), query={"id": t.tweet_id}, content_type="application/json")
        upstream.route(f"/media/{t.photo}", fake_media(f"{t.photo}.jpg", 20_000), content_type="image/jpeg")
    write_config(folder, upstream, f'[timestamps]\ntsa_urls = ["{tsa.url}"]\nroots = ["tsa-ca/ca.crt"]\n')
    (folder / "tsa-ca").mkdir()
    shutil.copy(tsa.root, folder / "tsa-ca" / "ca.crt")
    (folder / "story.html").write_text(blockquote("SamuelSusla", PHOTO_ID), encoding="utf-8")
    # `serve` says what it would serve, then listens on nothing
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: None)
    monkeypatch.setattr("archiver.cli.sharing.check_port", lambda host, port: None)

    run = Shell(folder)
    run("archiver archive --no-fetch story.html")
    # the next command a second later, as typed: the evidence list names bodies in the order first seen (to
    # the second), so the article's body comes first, before the fetched ones, as `head -2` shows below
    second = int(time.time())
    while int(time.time()) == second:
        time.sleep(0.02)
    run("archiver fetch --post 1")
    run("archiver verify")
    run("archiver export --post 1 -o post-1.wacz")
    run("wacz validate -f post-1.wacz")
    run("archiver verify post-1.wacz --tsa-root tsa-ca/ca.crt")
    zipfile.ZipFile(folder / "post-1.wacz").extractall(folder / "check")  # step 1 of checking a package
    (evidence,) = (p.stem for p in (folder / "check" / "logs").glob("evidence-*.txt"))
    run(f"openssl ts -verify -data logs/{evidence}.txt -in logs/{evidence}.tsa.tsr -CAfile ../tsa-ca/ca.crt",
        cwd="check")
    run(f"openssl ts -reply -in logs/{evidence}.tsa.tsr -text | grep 'Time stamp\\|TSA'", cwd="check")
    run(f"head -2 logs/{evidence}.txt", cwd="check")
    run("archiver archive seeds/")
    config = folder / "archiver.toml"
    settings = config.read_text()
    config.write_text('[schedules]\nfetch = "*/5 * * *"\n\n' + settings)  # a slip of the user's
    run("archiver daemon --config archiver.toml")
    config.write_text(settings)
    run("archiver passwd alice            # asks twice; --password-stdin for scripts",
        input="correct horse\ncorrect horse\n")
    run("archiver serve --host 0.0.0.0")
    (folder / "other").mkdir()  # another archive, of its own folder: no archiver.toml, no passwords
    other = CliRunner().invoke(cli, ["archive", "--no-fetch", "--db", "other/archive.db", "seeds/"])
    assert other.exit_code == 0, other.output
    run("archiver serve --host 0.0.0.0 --port 8002 --db other/archive.db    # an archive with no passwords")
    run("archiver serve --host 0.0.0.0 --port 8002 --db other/archive.db --public")

    found = console_blocks()
    checked_above = set(first_hour(found).values())
    ran: set[str] = set()
    for i, lines in enumerate(found):
        commands = [line[2:] for line in lines if line.startswith("$ ")]
        if i in checked_above or not commands or commands[0] in UNCHECKED:
            continue
        should = []
        for line in lines:
            if line.startswith("$ "):
                key = normal(line[2:])
                if key not in run.printed:
                    pytest.fail(f"the README's `{line[2:]}` is not run by this test")
                ran.add(key)
                should += ["$ " + run.commands[key], *run.printed[key]]
        if not matches(should, lines):
            pytest.fail("README block differs from what its commands print; it should read (a `...` line may "
                        "stand for lines left out):\n" + "\n".join(should))
    assert ran == set(run.printed), f"commands run but shown in no README block: {set(run.printed) - ran}"
