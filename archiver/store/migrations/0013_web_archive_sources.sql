
    -- An article version read from a WARC or ARC record keeps where that record lies, its id and digest.
    ALTER TABLE article_versions ADD COLUMN source_file TEXT;
    ALTER TABLE article_versions ADD COLUMN source_offset INTEGER;
    ALTER TABLE article_versions ADD COLUMN source_length INTEGER;
    ALTER TABLE article_versions ADD COLUMN source_record_id TEXT;
    ALTER TABLE article_versions ADD COLUMN source_payload_digest TEXT;
    -- Its bytes are not copied: the body row is a reference (content empty, by_reference = 1), the file is
    -- the evidence, and verify reads the record there again.
    ALTER TABLE bodies ADD COLUMN by_reference INTEGER NOT NULL DEFAULT 0;
    -- What each WARC or ARC file held, counted: pages without embeds leave these counts, not rows.
    CREATE TABLE web_archive_files (
        id INTEGER PRIMARY KEY,
        file TEXT NOT NULL UNIQUE,
        size INTEGER,
        records INTEGER NOT NULL DEFAULT 0,
        html INTEGER NOT NULL DEFAULT 0,
        with_embeds INTEGER NOT NULL DEFAULT 0,
        without_embeds INTEGER NOT NULL DEFAULT 0,
        non_html INTEGER NOT NULL DEFAULT 0,
        revisits INTEGER NOT NULL DEFAULT 0,
        other INTEGER NOT NULL DEFAULT 0,
        too_large INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        error_detail TEXT,
        scanned_at TEXT NOT NULL
    );
