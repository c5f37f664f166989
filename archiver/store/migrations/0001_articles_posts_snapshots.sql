
    CREATE TABLE bodies (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        content BLOB NOT NULL,
        first_seen_at TEXT NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL UNIQUE,
        url TEXT,
        canonical_url TEXT,
        title TEXT,
        site_name TEXT,
        author TEXT,
        published_at TEXT,
        kind TEXT,
        latest_sha256 TEXT,
        versions INTEGER NOT NULL DEFAULT 0,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        next_check_at TEXT
    );
    CREATE TABLE article_versions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        sha256 TEXT NOT NULL REFERENCES bodies(sha256),
        kind TEXT NOT NULL,
        encoding TEXT,
        size INTEGER NOT NULL,
        url TEXT,
        final_url TEXT,
        http_status INTEGER,
        content_type TEXT,
        title TEXT,
        canonical_url TEXT,
        published_at TEXT,
        site_name TEXT,
        author TEXT,
        fetched_at TEXT,
        warc_file TEXT,
        warc_offset INTEGER,
        detector_version TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        embed_count INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        UNIQUE (article_id, sha256)
    );
    CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_post_id TEXT,
        handle TEXT,
        author_name TEXT,
        text TEXT,
        lang TEXT,
        created_date TEXT,
        created_at TEXT,
        canonical_url TEXT,
        pic_links TEXT NOT NULL DEFAULT '[]',
        links TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'pending',
        status_changed_at TEXT NOT NULL,
        next_fetch_at TEXT,
        fetch_failures INTEGER NOT NULL DEFAULT 0,
        last_fetched_at TEXT,
        archived_at TEXT,
        resolved_via TEXT,
        resolved_at TEXT,
        first_seen_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (platform, platform_post_id)
    );
    CREATE INDEX posts_match ON posts (platform, lower(handle), created_date);
    CREATE INDEX posts_due ON posts (next_fetch_at) WHERE next_fetch_at IS NOT NULL;
    CREATE INDEX posts_status ON posts (status);
    CREATE TABLE embeds (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        article_version_id INTEGER NOT NULL REFERENCES article_versions(id),
        post_id INTEGER NOT NULL REFERENCES posts(id),
        ordinal INTEGER NOT NULL,
        platform TEXT NOT NULL,
        markup TEXT NOT NULL,
        context TEXT NOT NULL,
        position INTEGER NOT NULL,
        embed_url TEXT,
        handle TEXT,
        author_name TEXT,
        date TEXT,
        date_text TEXT,
        text TEXT,
        lang TEXT,
        pic_links TEXT NOT NULL DEFAULT '[]',
        links TEXT NOT NULL DEFAULT '[]',
        raw TEXT NOT NULL,
        detector TEXT NOT NULL,
        detector_version TEXT NOT NULL,
        detected_at TEXT NOT NULL,
        UNIQUE (article_version_id, ordinal)
    );
    CREATE TABLE post_status_changes (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        from_status TEXT,
        to_status TEXT NOT NULL,
        reason TEXT,
        changed_at TEXT NOT NULL
    );
    CREATE TABLE fetch_attempts (
        id INTEGER PRIMARY KEY,
        post_id INTEGER REFERENCES posts(id),
        article_id INTEGER REFERENCES articles(id),
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        final_url TEXT,
        http_status INTEGER,
        outcome TEXT NOT NULL,
        headers TEXT,
        bytes INTEGER,
        duration_ms INTEGER,
        ip TEXT,
        error TEXT,
        attempted_at TEXT NOT NULL,
        tool_version TEXT NOT NULL
    );
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        fetch_attempt_id INTEGER REFERENCES fetch_attempts(id),
        source TEXT NOT NULL,
        outcome TEXT NOT NULL,
        url TEXT NOT NULL,
        final_url TEXT,
        http_status INTEGER,
        sha256 TEXT NOT NULL REFERENCES bodies(sha256),
        size INTEGER NOT NULL,
        text TEXT,
        created_at TEXT,
        parsed TEXT,
        warc_file TEXT,
        warc_offset INTEGER,
        warc_length INTEGER,
        fetched_at TEXT NOT NULL,
        tool_version TEXT NOT NULL
    );
    CREATE TABLE media (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        snapshot_id INTEGER REFERENCES snapshots(id),
        kind TEXT,
        url TEXT NOT NULL,
        sha256 TEXT,
        path TEXT,
        content_type TEXT,
        size INTEGER,
        warc_file TEXT,
        warc_offset INTEGER,
        fetched_at TEXT NOT NULL,
        UNIQUE (post_id, url, sha256)
    );
    