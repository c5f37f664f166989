
    ALTER TABLE posts ADD COLUMN leased_by TEXT;
    CREATE INDEX posts_leased ON posts (leased_by) WHERE leased_by IS NOT NULL;
    