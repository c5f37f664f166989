
    CREATE TABLE endpoint_limits (
        endpoint TEXT PRIMARY KEY,
        slowdown INTEGER NOT NULL DEFAULT 1,
        slowed_until TEXT,
        paused_until TEXT,
        throttled_at TEXT,
        throttles INTEGER NOT NULL DEFAULT 0
    );
