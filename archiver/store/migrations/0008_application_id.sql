    -- Marks the file as an archiver archive ("ARCV", store.db.APPLICATION_ID): any other database is refused
    PRAGMA application_id = 1095910230;
