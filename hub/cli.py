"""The `hub` command: serve, migrate, user, import, demo, worker, bot."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

from hub.commands import bot, core, demo, imports, notify_missing, worker
from hub.config import Settings, load_settings
from moderation import commands as moderation_commands

# Each command module adds its commands with `add_commands(subparsers)`; a command sets
# `func(settings, args)` (sync or async), and `loop_factory` when an async one is to run on
# another event loop than asyncio's.
COMMAND_MODULES = (core, imports, worker, demo, bot, notify_missing, moderation_commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="school-hub: школьный портал")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(subparsers)
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
        with asyncio.Runner(loop_factory=getattr(args, "loop_factory", None)) as runner:
            result = runner.run(result)
    sys.exit(result or 0)
