
    -- How posts relate: a post quotes another, replies to another, or shows media first posted by another.
    -- learned_from says where the link was read (syndication body, oEmbed, article markup), snapshot_id
    -- the snapshot whose body says so, media_id the file a media_from link is about.
    CREATE TABLE post_relations (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        relation TEXT NOT NULL CHECK (relation IN ('quotes', 'replies_to', 'media_from')),
        related_post_id INTEGER NOT NULL REFERENCES posts(id),
        learned_from TEXT NOT NULL,
        snapshot_id INTEGER REFERENCES snapshots(id),
        media_id INTEGER REFERENCES media(id),
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        UNIQUE (post_id, relation, related_post_id, learned_from)
    );
    CREATE INDEX post_relations_related ON post_relations (related_post_id, relation);
    -- 0: embedded in an article, n: reached through n relations from an embedded post.
    ALTER TABLE posts ADD COLUMN context_depth INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE media ADD COLUMN perceptual_hash TEXT;
    ALTER TABLE media ADD COLUMN hash_algorithm TEXT;
    -- The post the platform says the file was first uploaded to, when it is another post.
    ALTER TABLE media ADD COLUMN source_post_id INTEGER REFERENCES posts(id);
    -- Pictures alike by their perceptual hashes, each pair in both directions.
    CREATE TABLE media_matches (
        media_id INTEGER NOT NULL REFERENCES media(id),
        other_media_id INTEGER NOT NULL REFERENCES media(id),
        distance INTEGER NOT NULL,
        hash_algorithm TEXT NOT NULL,
        found_at TEXT NOT NULL,
        PRIMARY KEY (media_id, other_media_id)
    );
