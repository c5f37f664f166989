"""Running: the stages wired together, on demand or on a schedule.

Owns the article pipeline (``pipeline``: read -> detect -> store), fetching the due posts (``fetching``:
queue -> worker -> store), polling the daemon's sources (``poll``), the APScheduler jobs
(``schedule``) and the daemon process with its lock and logging (``daemon``). May import every stage
below it (base, ``fetch``, ``read``, ``platforms``, ``detect``, ``store``, ``evidence``, ``browse``);
only the CLI imports it.
"""
