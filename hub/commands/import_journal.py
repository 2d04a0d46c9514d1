"""`hub import grades FILE.csv` and `hub import attendance FILE.csv`: reads the file and
reports; hub.journal.csv_import checks and stores it (all or nothing, errors by line).
Columns: docs/import.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.compose import open_database
from hub.config import Settings
from hub.db import Database
from hub.journal.csv_import import import_journal
from hub.journal.errors import ImportRejected
from hub.school import School

MAX_FILE = 5 * 1024 * 1024


def add_import_commands(kinds: Any) -> None:
    for kind, title in (("grades", "оценки"), ("attendance", "посещаемость")):
        parser = kinds.add_parser(kind, help=f"{title} из CSV-файла (см. docs/import.md)")
        parser.add_argument("file", type=Path, help="CSV в UTF-8, разделитель «,» или «;»")
        parser.add_argument("--school", help="код школы (по умолчанию — единственная школа)")
        parser.set_defaults(func=cmd_import_journal, journal_kind=kind)


async def cmd_import_journal(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.file.stat().st_size > MAX_FILE:
            print(f"hub: {args.file} больше 5 МиБ: разделите файл", file=sys.stderr)
            return 1
        text = args.file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        print(f"hub: {args.file} не в UTF-8: сохраните его как «CSV UTF-8»", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"hub: не удалось прочитать {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    db = await open_database(settings)
    try:
        school_id = await school_by_slug(db, args.school)
        result = await import_journal(db, school_id, args.journal_kind, text, tz=settings.tz)
    except ImportRejected as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"hub: ошибок — {len(exc.errors)}; ничего не сохранено", file=sys.stderr)
        return 1
    except LookupError as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"hub: создано {result.created}, исправлено {result.updated}, "
          f"без изменений {result.unchanged}")
    return 0


async def school_by_slug(db: Database, slug: str | None) -> int:
    async with db.session() as session:
        schools = list(await session.scalars(select(School)))
    if slug:
        for school in schools:
            if school.slug == slug:
                return school.id
        raise LookupError(f"нет школы «{slug}»")
    if len(schools) != 1:
        raise LookupError("школ несколько или ни одной: укажите --school")
    return schools[0].id
