"""The `hub` command: serve, migrate, user, import, demo (and the workers of later parts)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

from hub.config import Settings, load_settings
from hub.db import Database

# Modules with `add_commands(subparsers)`; each command sets `func(settings, args)`.
COMMAND_MODULES: tuple[str, ...] = (
    "hub.commands.core",
    "hub.commands.imports",
    "hub.commands.worker",  # notifications: `hub worker`
    "hub.commands.demo",  # the demo school: `hub demo` (issue 2)
    "hub.commands.bot",  # telegram: `hub bot` (long polling)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="school-hub: школьный портал")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(subparsers)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    func: Callable[[Settings, argparse.Namespace], Any] = args.func
    result = func(settings, args)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    sys.exit(result or 0)


async def prepare_database(settings: Settings) -> None:
    """Migrate an empty database; refuse to go on with an outdated schema."""
    from hub import migrate

    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    try:
        current, head = await migrate.state(db)
        if current is None:
            await migrate.upgrade(db)
        elif current != head:
            print(
                f"hub: the database is at revision {current}, this version needs {head}: "
                "run `hub migrate` first",
                file=sys.stderr,
            )
            raise SystemExit(2)
    finally:
        await db.dispose()


async def open_database(settings: Settings) -> Database:
    """The database, ready for use in the running event loop."""
    await prepare_database(settings)
    return Database(settings.database_url)
