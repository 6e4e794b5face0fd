"""Use cases: each function is one transaction over a `Database` and returns plain records."""
