"""The worker: one post through its platform's snapshot() with the run's HTTP, WARC and limits, no database."""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from archiver.config import Settings
from archiver.errors import FetchError
from archiver.fetch.results import PostResult, SourceResult
from archiver.models import QueuedPost


class Interrupted(FetchError):
    """A request not made because the process is stopping."""


@dataclass
class FetchContext:
    """What a worker needs: the request function, where evidence goes, endpoints and limits. No database.

    A run builds one; each post gets its own copy (``for_post``) whose ``attempts`` collects every
    request made for that post and whose ``interrupted`` says a stop request cut it short.
    """

    requester: object  # archiver.fetch.retry.Requester
    warc: object  # archiver.fetch.warc.WarcWriter or None
    settings: Settings
    db_folder: Path
    media_root: Path
    stop: threading.Event | None = None
    attempts: list = field(default_factory=list)  # retry.AttemptRecord of this post's requests
    interrupted: bool = False

    @property
    def endpoints(self):
        return self.settings.endpoints

    @property
    def limits(self):
        return self.settings.limits

    def for_post(self, attempts: list) -> FetchContext:
        """This context for one post: its requests recorded into `attempts`."""
        return replace(self, attempts=attempts, interrupted=False)

    def get(self, url: str, *, source: str, **kwargs):
        """One GET through the requester; its response is written to WARC before it is returned."""
        if self.stop is not None and self.stop.is_set():
            self.interrupted = True
            raise Interrupted(url, "stopping: the daemon was asked to exit")
        try:
            ex = self.requester.get(url, source=source, on_attempt=self.attempts.append, **kwargs)
        except Interrupted:
            self.interrupted = True  # set here: a source may catch the error and record it as its own
            raise
        if self.warc is not None:
            ex.warc = self.warc.write_exchange(ex)
            if self.attempts and self.attempts[-1].url == url:  # the attempt that returned it
                self.attempts[-1] = replace(self.attempts[-1], warc=ex.warc)
        return ex


def stoppable_sleep(stop: threading.Event | None) -> Callable[[float], None]:
    """A backoff sleep that ends, and ends the request, as soon as the process is asked to stop."""
    if stop is None:
        return time.sleep

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Interrupted("(backoff)", "stopping: the daemon was asked to exit")
    return sleep


def snapshot_post(post: QueuedPost, snapshot, ctx: FetchContext) -> PostResult:
    """Fetch one post with its platform's `snapshot(post, ctx)` (None: no source); runs in a worker thread."""
    result = PostResult(post_id=post.id)
    own = ctx.for_post(result.attempts)
    try:
        if snapshot is None:
            return result
        result.resolution, result.sources, result.media = snapshot(post, own)
    except Exception as exc:  # noqa: BLE001 - one post's bug must not stop the batch; it is recorded
        result.error = f"{type(exc).__name__}: {exc}"
        result.sources.append(SourceResult("archiver", "error", error=traceback.format_exc(limit=3)[-500:]))
    finally:
        result.interrupted = own.interrupted
    return result
