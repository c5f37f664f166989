
    ALTER TABLE embeds ADD COLUMN surrounding TEXT;
