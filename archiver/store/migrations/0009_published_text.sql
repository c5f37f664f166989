
    ALTER TABLE articles ADD COLUMN published_text TEXT;
