"""`hub import ...`: each kind of import is a module with `add_import_commands(subparsers)`."""

from __future__ import annotations

from typing import Any

from hub.commands import import_journal, import_people

IMPORT_MODULES = (import_journal, import_people)


def add_commands(subparsers: Any) -> None:
    group = subparsers.add_parser("import", help="import people, classes, grades, attendance")
    kinds = group.add_subparsers(dest="import_kind", required=True, metavar="WHAT")
    for module in IMPORT_MODULES:
        module.add_import_commands(kinds)
