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
