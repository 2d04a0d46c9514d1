"""Applying the Alembic migrations in hub/migrations to a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from hub.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


# Tables made by hand in the migrations that the models do not describe: SQLite's FTS5
# search table and its shadow tables.
UNMODELLED_TABLES = ("forum_posts_fts",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For autogenerate and the migration test: leave the hand-made tables alone."""
    return not (type_ == "table" and name is not None and name.startswith(UNMODELLED_TABLES))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(db: Database) -> None:
    config = alembic_config(db.url)
    async with db.engine.begin() as connection:
        await connection.run_sync(_upgrade, config)


async def state(db: Database) -> tuple[str | None, str | None]:
    """(the database's revision, the newest revision this code knows)."""
    async with db.engine.connect() as connection:
        current = await connection.run_sync(_current)
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    return current, head


def new_revision(message: str) -> None:
    """Write a migration for what the models have and the migrations lack (autogenerate
    against a scratch SQLite database at head)."""
    import asyncio
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/scratch.db"
        db = Database(url)
        asyncio.run(_upgrade_and_dispose(db))
        command.revision(alembic_config(url), message=message, autogenerate=True)


async def _upgrade_and_dispose(db: Database) -> None:
    await upgrade(db)
    await db.dispose()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m hub.migrate revision "what changed"')
    new_revision(sys.argv[2])
