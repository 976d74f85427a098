"""Alembic environment: kupol's metadata, both SQLite and PostgreSQL."""

from alembic import context

from kupol.core.db import Base, make_engine
from kupol.tables import import_all_tables

import_all_tables()
config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run_migrations() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
