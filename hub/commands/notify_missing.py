"""`hub notify-missing grades|attendance`: tell parents about records stored without
notices (hub.journal.renotify), through the same wiring as the web app and the worker."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from hub.commands.import_journal import school_by_slug
from hub.compose import open_database
from hub.config import Settings
from hub.journal.renotify import notify_missing


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "notify-missing", help="уведомить об оценках или отметках, сохранённых без уведомлений"
    )
    parser.add_argument("journal_kind", choices=("grades", "attendance"))
    parser.add_argument("--school", help="код школы (по умолчанию — единственная школа)")
    parser.add_argument("--since", type=dt.date.fromisoformat,
                        help="только записи, сохранённые с этой даты (ГГГГ-ММ-ДД)")
    parser.set_defaults(func=cmd_notify_missing)


async def cmd_notify_missing(settings: Settings, args: argparse.Namespace) -> int:
    db = await open_database(settings)
    try:
        school_id = await school_by_slug(db, args.school)
        since = (dt.datetime.combine(args.since, dt.time(), tzinfo=settings.tz)
                 .astimezone(dt.UTC) if args.since else None)
        async with db.transaction() as session:
            count = await notify_missing(session, school_id, args.journal_kind, since=since)
    except LookupError as exc:
        print(f"hub: {exc}")
        return 1
    finally:
        await db.dispose()
    print(f"hub: уведомлений создано по записям: {count}")
    return 0
