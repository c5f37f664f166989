"""Typed library errors; only the CLI turns them into one-line messages."""


class ArchiverError(Exception):
    """Base class of every error the library raises on purpose."""

    hint: str | None = None


class SourceError(ArchiverError):
    """A source (file, folder, stdin, URL) could not be read as an article."""

    def __init__(self, source: str, message: str, hint: str | None = None):
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
        self.hint = hint


class FetchError(ArchiverError):
    """An HTTP exchange failed (network, status, policy, size)."""

    def __init__(self, url: str, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(f"{url}: {message}")
        self.url = url
        self.message = message
        self.status = status
        self.retry_after = retry_after


class ForbiddenURLError(FetchError):
    """The URL (or a redirect hop) points at a host the policy does not allow."""


class TooLargeError(FetchError):
    """A body went over its size cap."""


class StoreError(ArchiverError):
    """The database could not be opened or written."""


class ConfigError(ArchiverError):
    """The configuration file or environment holds a bad value."""
