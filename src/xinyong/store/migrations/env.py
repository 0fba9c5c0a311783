"""Alembic environment: migrates the engine handed over in config.attributes (see store.engine.upgrade)."""

from alembic import context

from xinyong.store.schema import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
