
    UPDATE posts SET next_fetch_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE next_fetch_at IS NULL AND merged_into_id IS NULL
      AND status_reason = 'no snapshot source for this platform';
    