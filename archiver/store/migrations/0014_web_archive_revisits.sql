
    -- A revisit record in a WARC names content seen before (by payload digest): it is linked to the article
    -- version holding that content, not analysed again.
    CREATE TABLE article_revisits (
        id INTEGER PRIMARY KEY,
        article_version_id INTEGER NOT NULL REFERENCES article_versions(id),
        source_file TEXT NOT NULL,
        source_offset INTEGER NOT NULL,
        record_id TEXT,
        target_uri TEXT,
        warc_date TEXT,
        first_seen_at TEXT NOT NULL,
        UNIQUE (source_file, source_offset)
    );
    CREATE INDEX article_revisits_version ON article_revisits (article_version_id);
    CREATE INDEX article_versions_payload_digest ON article_versions (source_payload_digest)
        WHERE source_payload_digest IS NOT NULL;
