
    ALTER TABLE fetch_attempts ADD COLUMN warc_file TEXT;
    ALTER TABLE fetch_attempts ADD COLUMN warc_offset INTEGER;
    ALTER TABLE fetch_attempts ADD COLUMN warc_length INTEGER;
    ALTER TABLE article_versions ADD COLUMN warc_length INTEGER;
    ALTER TABLE article_versions ADD COLUMN warc_span_offset INTEGER;
    ALTER TABLE article_versions ADD COLUMN warc_span_length INTEGER;
    ALTER TABLE article_versions ADD COLUMN decoding TEXT;
    CREATE INDEX fetch_attempts_warc ON fetch_attempts (post_id) WHERE warc_file IS NOT NULL;
    CREATE INDEX posts_merged_into ON posts (merged_into_id) WHERE merged_into_id IS NOT NULL;
    CREATE TABLE evidence_lists (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        items INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE evidence_items (
        id INTEGER PRIMARY KEY,
        list_id INTEGER NOT NULL REFERENCES evidence_lists(id),
        kind TEXT NOT NULL,
        ref TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        UNIQUE (kind, ref)
    );
    CREATE INDEX evidence_items_list_id ON evidence_items (list_id);
    CREATE INDEX evidence_items_sha256 ON evidence_items (sha256);
    CREATE TABLE timestamps (
        id INTEGER PRIMARY KEY,
        list_id INTEGER NOT NULL REFERENCES evidence_lists(id),
        tsa_url TEXT NOT NULL,
        status TEXT NOT NULL,
        token_path TEXT,
        token_sha256 TEXT,
        gen_time TEXT,
        serial_number TEXT,
        policy TEXT,
        tsa_name TEXT,
        hash_algorithm TEXT,
        message_imprint TEXT,
        error TEXT,
        requested_at TEXT NOT NULL,
        tool_version TEXT
    );
    CREATE INDEX timestamps_list_id ON timestamps (list_id);
