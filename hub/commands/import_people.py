"""`hub import people FILE`: the CSV import of people and classes (docs/import.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.compose import open_database
from hub.config import Settings
from hub.importer import ImportRejected, import_people
from hub.school import School, create_school


def add_import_commands(kinds: Any) -> None:
    people = kinds.add_parser("people", help="people and classes from a CSV file")
    people.add_argument("file", type=Path, help="CSV file (UTF-8, ';' or ',' delimited)")
    people.add_argument("--school", help="school slug (default: the only school)")
    people.set_defaults(func=cmd_import_people)


async def cmd_import_people(settings: Settings, args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"hub: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    db = await open_database(settings)
    try:
        async with db.transaction() as session:
            schools = list(await session.scalars(select(School).order_by(School.id)))
            chosen = [s for s in schools if args.school in (None, s.slug)]
            if not schools and not args.school:
                chosen = [await create_school(session, "Школа", "school")]
            if len(chosen) != 1:
                print("hub: " + ("no such school" if args.school else
                                 "several schools: give --school SLUG"), file=sys.stderr)
                return 1
            # The command line is the system administrator's: it may grant any role.
            report = await import_people(session, chosen[0].id, data, may_grant_roles=True)
    except ImportRejected as exc:
        print(f"hub: {args.file}: nothing imported, {len(exc.errors)} problem(s):",
              file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}" if error.line else f"  {error.message}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"hub: imported {args.file}: {report.created} created, {report.updated} updated, "
          f"{report.guardianships_added} guardianships added"
          + (f", classes created: {' '.join(report.classes_created)}"
             if report.classes_created else ""))
    return 0
