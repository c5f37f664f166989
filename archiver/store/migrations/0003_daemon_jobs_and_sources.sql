
    CREATE TABLE job_runs (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        counts TEXT,
        error TEXT,
        pid INTEGER,
        host TEXT
    );
    CREATE INDEX job_runs_job ON job_runs (job, started_at);
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        location TEXT NOT NULL,
        last_polled_at TEXT,
        last_ok_at TEXT,
        last_error TEXT,
        items_seen INTEGER NOT NULL DEFAULT 0,
        articles_added INTEGER NOT NULL DEFAULT 0
    );
    ALTER TABLE articles ADD COLUMN source_id INTEGER REFERENCES sources(id);
    CREATE INDEX articles_source ON articles (source_id);
    