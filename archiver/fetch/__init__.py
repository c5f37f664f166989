"""Fetching: everything that talks to an upstream and keeps what it said, without a database.

Owns the one HTTP client (``http``: allowlist and private-address checks on every hop, size caps,
timeouts) and the one place connections are opened (``net``: names resolved, addresses checked and
pinned before a byte is sent, every read bounded by the request's deadline), retries (``retry``,
tenacity, Retry-After), per-host limits and the breaker (``limits``), WARC writing of every exchange
(``warc``), never-raising JSON bodies (``jsonbody``), the Wayback Machine's APIs (``wayback``), media
downloads (``media``), the snapshot sources every platform shares (``sources``: oEmbed, web archives,
Save Page Now), the plain results a fetch produces (``results``), the worker that runs one post
through its platform's ``snapshot()`` (``worker``) and what the answers mean for the post's status
(``status``). May import only the base modules (``errors``, ``models``, ``config``, ``clock``):
platforms import it, so it never imports a platform, the store or the runner.
"""
