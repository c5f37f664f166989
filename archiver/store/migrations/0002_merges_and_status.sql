
    ALTER TABLE posts ADD COLUMN merged_into_id INTEGER REFERENCES posts(id);
    ALTER TABLE posts ADD COLUMN status_reason TEXT;
    ALTER TABLE posts ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE fetch_attempts ADD COLUMN attempt INTEGER;
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        source TEXT NOT NULL,
        captured_at TEXT NOT NULL,
        original TEXT NOT NULL,
        replay_url TEXT NOT NULL,
        http_status INTEGER,
        mimetype TEXT,
        digest TEXT,
        first_seen_at TEXT NOT NULL,
        UNIQUE (post_id, captured_at, original)
    );
    CREATE TABLE resolutions (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        method TEXT NOT NULL,
        resolved_post_id TEXT,
        detail TEXT,
        candidates TEXT,
        resolved_at TEXT NOT NULL
    );
    CREATE INDEX fetch_attempts_post ON fetch_attempts (post_id);
    CREATE INDEX snapshots_post_source ON snapshots (post_id, source, id);
    CREATE INDEX media_post ON media (post_id);
    CREATE INDEX captures_post ON captures (post_id);
    CREATE INDEX resolutions_post ON resolutions (post_id);
    CREATE INDEX embeds_post ON embeds (post_id);
    CREATE INDEX embeds_article ON embeds (article_id);
    CREATE INDEX embeds_version ON embeds (article_version_id);
    CREATE INDEX article_versions_article ON article_versions (article_id);
    CREATE INDEX post_status_changes_post ON post_status_changes (post_id);
    