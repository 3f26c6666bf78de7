"""Alembic environment: runs on a connection handed over by storage.migrate, or on the URL in
alembic.ini when used by hand for autogenerate."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import storage.admin_tables  # noqa: F401 - its tables are part of the one schema
import storage.casework_tables  # noqa: F401 - its tables are part of the one schema
from storage.tables import Base

config = context.config
target_metadata = Base.metadata


def run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        run(conn)
