"""Who may see the archive when ``archiver serve`` shares it: passwords, least privilege, no indexing.

Authentication is Datasette's own permission system with the maintained ``datasette-auth-passwords``
plugin (its ``/-/login`` form and signed ``ds_actor`` cookie); nothing here checks a password. With
passwords configured, ``metadata`` adds an ``allow`` block naming the users, so every Datasette page
(tables, rows, ``.json``, queries) asks for ``view-instance``; ``guarded`` makes each archiver route ask
for the same before it reads anything; ``LoginThrottle`` refuses a client (429) after too many failed
logins. Every response carries ``X-Robots-Tag: noindex`` (and ``datasette-block-robots`` serves a
``robots.txt`` that disallows everything): no archived page is indexable.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from datasette.utils import async_call_with_supported_arguments
from datasette.utils.asgi import Response

MAX_SQL_TIME_MS = 1000  # a shared archive's query time limit: at most 1 s, whatever is configured
_PASSWORD_ENV = "ARCHIVER_SERVE_HASH_"  # the hashes reach the login plugin through the environment


@dataclass(frozen=True)
class Access:
    """How one ``serve`` shares the archive: the users (name -> hash) and what readers may do."""

    passwords: dict
    allow_sql: bool = False
    sql_time_limit_ms: int = MAX_SQL_TIME_MS
    login_failures: int = 5
    lockout: float = 900.0

    @classmethod
    def from_settings(cls, serve) -> Access:
        """From ``config.Serve``."""
        return cls(dict(serve.passwords), serve.allow_sql, min(serve.sql_time_limit_ms, MAX_SQL_TIME_MS),
                   serve.login_failures, serve.lockout)

    @property
    def users(self) -> list[str]:
        return sorted(self.passwords)


def metadata(access: Access | None, environ: dict) -> dict:
    """Metadata keys that restrict the instance to the users, and the login plugin's config.

    The hashes go into ``environ`` (the process environment) and the plugin config names them with
    ``$env``, so ``/-/metadata`` never shows one. Without users (a public share) only the SQL rule applies.
    """
    if access is None:
        return {}
    if not access.passwords:
        return {"allow_sql": access.allow_sql}  # public: arbitrary SQL for everyone, or for no one
    config = {}
    for n, (user, hashed) in enumerate(sorted(access.passwords.items())):
        environ[f"{_PASSWORD_ENV}{n}"] = hashed
        config[f"{user}_password_hash"] = {"$env": f"{_PASSWORD_ENV}{n}"}
    return {"allow": {"id": access.users}, "allow_sql": {"id": access.users} if access.allow_sql else False,
            "plugins": {"datasette-auth-passwords": config}}


def plugin_config(access: Access | None) -> dict:
    """What the archiver plugin needs to know of the share: how failed logins are throttled."""
    if access is None or not access.passwords:
        return {}
    return {"login_failures": access.login_failures, "lockout": access.lockout}


def guarded(view):
    """A route that answers only a reader allowed to view the instance; anyone else gets 403 and a login link."""
    # No functools.wraps: Datasette reads a route's parameters from its signature, which must be this one.
    async def route(datasette, request, scope, receive, send):
        if not await datasette.permission_allowed(request.actor, "view-instance", default=True):
            return forbidden(datasette)
        return await async_call_with_supported_arguments(view, datasette=datasette, request=request, scope=scope,
                                                         receive=receive, send=send)
    route.__name__ = route.__qualname__ = view.__name__
    return route


def forbidden(datasette) -> Response:
    """403 with nothing of the archive in it: a link to the login form only."""
    login = datasette.urls.path("/-/login")
    return Response.html(f'<!DOCTYPE html><title>Log in</title><p>This archive is private. '
                         f'<a href="{login}">Log in</a> to read it.</p>', status=403)


class LoginThrottle:
    """Failed logins counted per client; at ``limit`` the client's next attempts get 429 until ``lockout``
    seconds have passed. A successful login (the form's redirect) clears the count."""

    def __init__(self, limit: int, lockout: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.lockout, self._clock = limit, lockout, clock
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}

    def refused(self, client: str) -> bool:
        until = self._locked_until.get(client)
        if until is None:
            return False
        if self._clock() >= until:
            self._locked_until.pop(client, None)
            self._failures.pop(client, None)
            return False
        return True

    def answered(self, client: str, status: int) -> None:
        if status in (301, 302, 303):
            self._failures.pop(client, None)
            return
        self._failures[client] = self._failures.get(client, 0) + 1
        if self.limit > 0 and self._failures[client] >= self.limit:
            self._locked_until[client] = self._clock() + self.lockout


def wrap(app, throttle: LoginThrottle | None, login_path: str = "/-/login"):
    """The ASGI app with ``X-Robots-Tag: noindex`` on every response and, with a throttle, failed logins
    counted per client."""
    async def asgi(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        client = (scope.get("client") or ("?",))[0]
        login = throttle is not None and scope.get("method") == "POST" and scope.get("path") == login_path
        if login and throttle.refused(client):
            return await Response.text("429 Too many failed logins; try again later", status=429,
                                       headers={"Retry-After": str(int(throttle.lockout))}).asgi_send(send)
        status = {}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = dict(message, headers=[*message.get("headers", []),
                                                  (b"x-robots-tag", b"noindex, nofollow")])
            await send(message)

        await app(scope, receive, sending)
        if login and "code" in status:
            throttle.answered(client, status["code"])
    return asgi
