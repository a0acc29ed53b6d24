"""What lives on disk: settings and credentials, private files, the history database, the cache."""
