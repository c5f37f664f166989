"""The store: the one stage that talks to SQLite (embeds -> posts -> snapshots, kept).

Owns the schema as numbered SQL migrations (``migrations/``), opening the archive and transactions
(``db``), the views people browse (``views``), writing articles with their embeds (``articles``),
posts and their status changes (``posts``), the fetch queue with its leases (``queue``) and recording
one fetch of one post (``results``). May import the base modules, ``fetch`` (result types),
``read``, ``platforms`` (canonical URLs) and ``detect``; never ``evidence``, ``browse``, ``run`` or
the CLI.
"""
