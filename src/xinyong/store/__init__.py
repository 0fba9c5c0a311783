"""Storage: SQLAlchemy Core tables, the engine, Alembic migrations (SQLite by default, PostgreSQL too)."""
