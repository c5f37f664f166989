"""One source of truth for the settings (issue 11 #7): every setting explained once, the commented file
and the README table made from it and from the defaults, neither able to drift."""
from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from archiver import config
from archiver.settings_doc import DOCS, SECTIONS, example_config, readme_with_table, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def every_setting() -> set:
    top = {("", f.name) for f in fields(config.Settings) if f.name not in ("path", *SECTIONS)}
    return top | {(s, f.name) for s in SECTIONS for f in fields(config._SECTIONS[s])}


def test_every_setting_is_explained_and_nothing_else():
    assert set(DOCS) == every_setting()
    assert set(SECTIONS) == set(config._SECTIONS)


def test_the_example_file_holds_every_setting_and_reads_back_as_the_defaults(tmp_path):
    text = example_config()
    for section, key in every_setting():
        if section:
            assert f"\n[{section}]" in text
        assert f"{key} = " in text or f"[{key}]" in text or f"[[{key}]]" in text, (section, key)
    assert "always refused" not in text  # allow_private exists: private addresses are refused unless allowed
    path = tmp_path / "archiver.toml"
    path.write_text(text)
    read = config.load_settings(path, env={})
    assert replace(read, path=None) == config._with_endpoint_hosts(config.Settings())


def test_the_readme_table_is_the_one_the_definitions_make():
    text = README.read_text(encoding="utf-8")
    assert readme_with_table(text) == text, "run: python scripts/settings_table.py"
    for section, key in every_setting():
        shown = f"`[{section}] {key}`" if section else None
        assert shown is None or shown in settings_table(), shown


def test_a_new_default_shows_in_both(monkeypatch):
    original = config.Settings
    monkeypatch.setattr(config, "Settings", lambda: replace(original(), limits=replace(original().limits,
                                                                                       fetch_batch=321)))
    assert "fetch_batch = 321" in example_config() and "| `[limits] fetch_batch` | `321` |" in settings_table()
