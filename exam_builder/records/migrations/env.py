"""Alembic environment for exam-builder's own tables.

Its version table is ``exam_builder_alembic_version``, so nbgrader's own migrations (table
``alembic_version``) are never touched, and only ``eb_*`` tables are compared.
"""
from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from exam_builder.records.db import VERSION_TABLE
from exam_builder.records.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names):  # noqa: ANN001
    if type_ == "table":
        return name.startswith("eb_")
    return True


def _driver(connection: Connection) -> Any:
    """The DB-API connection under an open SQLAlchemy connection (pragmas outside a transaction)."""
    raw = connection.connection.driver_connection
    assert raw is not None  # open: the driver's connection is there
    return raw


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (copy, drop, rename); with foreign keys enforced, the
            # drop fails as soon as another table's rows point at it (responses -> sittings).
            # The pragma only takes effect outside a transaction, so it goes to the driver.
            _driver(connection).execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                version_table=VERSION_TABLE,
                include_name=include_name,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing at missing rows: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                _driver(connection).execute("PRAGMA foreign_keys=ON")

run_migrations_online()
