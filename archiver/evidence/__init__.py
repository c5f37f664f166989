"""Evidence: reading back and checking what the archive kept, so others can trust it.

Owns reading WARC records by location and checking whole WARC files (``warcs``) and ``verify``:
every stored body, media file and WARC record re-hashed against the archive. Export and timestamps
belong here too. May import the base modules, ``fetch`` (the WARC writer's layout), ``read``,
``platforms``, ``detect`` and ``store``; never ``browse``, ``run`` or the CLI.
"""
