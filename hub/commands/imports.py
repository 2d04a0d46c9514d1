"""`hub import ...`: each kind of import is a module with `add_import_commands(subparsers)`."""

from __future__ import annotations

import importlib
from typing import Any

IMPORT_MODULES: tuple[str, ...] = (
    "hub.commands.import_journal",
    "hub.commands.import_people",  # people and classes (issue 2)
)


def add_commands(subparsers: Any) -> None:
    group = subparsers.add_parser("import", help="import people, classes, grades, attendance")
    kinds = group.add_subparsers(dest="import_kind", required=True, metavar="WHAT")
    for name in IMPORT_MODULES:
        importlib.import_module(name).add_import_commands(kinds)
