"""Alembic environment for exam-builder's own tables.

Its version table is ``exam_builder_alembic_version``, so nbgrader's own migrations (table
``alembic_version``) are never touched, and only ``eb_*`` tables are compared.
"""
from alembic import context
from sqlalchemy import create_engine

from exam_builder.records.db import VERSION_TABLE
from exam_builder.records.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names):  # noqa: ANN001
    if type_ == "table":
        return name.startswith("eb_")
    return True


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            include_name=include_name,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
