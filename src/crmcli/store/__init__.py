"""Storage: tables, engine and sessions, migrations and queries. The only layer that knows SQL."""
