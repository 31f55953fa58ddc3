"""Migrations are the only way the schema is built: one head, and they go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from lti_tool.extensions import db, migrate


def test_single_head(app):
    script = ScriptDirectory.from_config(migrate.get_config())
    assert len(script.get_heads()) == 1


def test_upgrade_downgrade_upgrade(app):
    tables = set(db.metadata.tables)
    downgrade(revision="base")
    assert not tables & set(inspect(db.engine).get_table_names())
    upgrade()
    assert tables <= set(inspect(db.engine).get_table_names())


def test_models_match_the_migrations(app):
    """No model change without its migration."""
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_no_index_repeats_the_leading_columns_of_a_unique_one(app):
    """A unique index serves lookups by its leading columns too. A second index on those alone
    only slows writes, and misled PostgreSQL's generic plan of the launch into filtering every
    learner of the platform (see migration 0011)."""
    inspector = inspect(db.engine)
    repeated = []
    for table in inspector.get_table_names():
        unique = [tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)]
        unique += [tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["unique"]]
        for index in inspector.get_indexes(table):
            columns = tuple(index["column_names"])
            if not index["unique"] and any(len(u) > len(columns) and u[:len(columns)] == columns for u in unique):
                repeated.append((table, index["name"]))
    assert repeated == []
