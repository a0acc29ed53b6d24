"""What the user sees: the streams and the sanitiser, answer writers, the routing timeline, tables."""
