"""What the archive and detect commands print as they go: a progress bar, one line per source or record."""
from __future__ import annotations

import json
import sys

import click


class Progress:
    """A progress bar on stderr for many sources, on a terminal only; nothing for one or with --silent."""

    def __init__(self, total: int, silent: bool, label: str):
        self.bar = None
        # Not on a terminal, click prints the bare label once: a stray line in logs and pipes.
        if not silent and total > 1 and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True,
                                         item_show_func=lambda item: item)
            self.bar.__enter__()

    def step(self, status: str | None = None):
        """One source done; ``status`` (web archives: files, records, MB, pages/s) is shown beside the bar."""
        if self.bar:
            self.bar.update(1, current_item=status)

    def close(self):
        if self.bar:
            self.bar.__exit__(None, None, None)


def report(outcome, progress=None) -> None:
    """One line on stderr naming the source that failed and why."""
    line = f"error: {outcome.error}" + (f" (hint: {outcome.hint})" if outcome.hint else "")
    click.echo(("\n" if progress is not None and progress.bar else "") + line, err=True)


def tally(outcome, totals: dict, progress) -> None:
    """One source's (or record's) outcome: a JSON line on stdout when stored, a line on stderr when it failed."""
    if outcome.error:
        totals["failed"] += 1
        report(outcome, progress)
        return
    saved = outcome.saved
    totals["articles"] += 1
    totals["new_versions"] += saved.new_version
    totals["embeds"] += saved.embeds_added
    totals["posts_added"] += saved.posts_added
    record = (outcome.article.meta or {}).get("record")
    click.echo(json.dumps({
        "source": outcome.source, "article_id": saved.article_id, "sha256": outcome.article.sha256,
        "new_version": saved.new_version, "embeds": len(outcome.embeds), "posts_added": saved.posts_added,
        **({"record": f"{record.file}@{record.offset}"} if record is not None else {}),
    }, ensure_ascii=False))
