"""Persistence: the SQLite catalog and the vector indexes built from it."""
