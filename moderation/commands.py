"""``hub moderation report`` and ``hub moderation retrain``: what the moderators' decisions
say about the detector, and a model retrained on them. The composition root adds these to
the CLI with ``add_commands(subparsers)``; each command takes (settings, args)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.db import Database
from hub.school import School
from moderation import learning, retrain
from moderation.watched import detector_for

DEFAULT_DATA = Path(os.environ.get("HUB_SHARED_DATA", "data"))


def add_commands(subparsers: Any) -> None:
    mod = subparsers.add_parser("moderation", help="what moderators' decisions teach the detector")
    sub = mod.add_subparsers(dest="moderation_command", required=True, metavar="ACTION")
    report = sub.add_parser("report", help="the detector's precision per rule on decided items, "
                                           "and watched words to consider")
    report.add_argument("--school", help="school slug (default: the only school)")
    report.set_defaults(func=cmd_report)
    again = sub.add_parser("retrain", help="fit the model on the shipped data plus the school's "
                                           "decisions; install it only if it is better")
    again.add_argument("--school", help="school slug (default: the only school)")
    again.add_argument("--data", type=Path, default=DEFAULT_DATA,
                       help="the directory with ru_detox_train.tsv (default: HUB_SHARED_DATA)")
    again.set_defaults(func=cmd_retrain)


async def _school_id(db: Database, slug: str | None) -> int | None:
    async with db.session() as session:
        schools = list(await session.scalars(select(School)))
    chosen = [s for s in schools if s.slug == slug] if slug else schools
    return chosen[0].id if len(chosen) == 1 else None


def format_report(report: learning.PrecisionReport,
                  suggestions: list[learning.Suggestion]) -> str:
    lines = [f"Решений модераторов: {report.decided}; точность задержаний "
             f"{report.overall.precision:.0%} ({report.overall.right} верно, "
             f"{report.overall.wrong} одобрено без правки)", "", "По правилам (худшие сначала):"]
    lines += [f"  {r.rule:<40} {r.precision:6.0%}  верно {r.right}, одобрено {r.wrong}"
              for r in report.by_rule]
    lines += ["", "По источникам:"]
    lines += [f"  {r.rule:<40} {r.precision:6.0%}  верно {r.right}, одобрено {r.wrong}"
              for r in report.by_source]
    if report.reasons:
        lines += ["", "Причины отклонения:"] + [f"  {n:>4}  {why}" for why, n in report.reasons]
    if suggestions:
        lines += ["", "Слова, которые модераторы отклоняют, а детектор пропускает "
                      "(кандидаты в стоп-слова):"]
        lines += [f"  {s.word:<24} отклонено {s.rejected}, одобрено {s.approved}"
                  for s in suggestions]
    return "\n".join(lines)


async def cmd_report(settings: Any, args: argparse.Namespace) -> int:
    db = Database(settings.database_url)
    try:
        school_id = await _school_id(db, args.school)
        if school_id is None:
            print("hub: укажите школу: --school")
            return 2
        async with db.session() as session:
            report = await learning.precision_report(session, school_id)
            detector = await detector_for(session, school_id)
            suggestions = await learning.watched_suggestions(session, school_id, detector)
        print(format_report(report, suggestions))
        return 0
    finally:
        await db.dispose()


async def cmd_retrain(settings: Any, args: argparse.Namespace) -> int:
    db = Database(settings.database_url)
    try:
        school_id = await _school_id(db, args.school)
        if school_id is None:
            print("hub: укажите школу: --school")
            return 2
        async with db.session() as session:
            result = await retrain.retrain(session, school_id, data=args.data,
                                           data_dir=settings.data_dir)
    finally:
        await db.dispose()
    print(f"Решений для обучения: {result.trained_on}, отложено для проверки: "
          f"{result.held_back}")
    for label, s in (("до", result.before), ("после", result.after)):
        if s is not None:
            print(f"  {label}: точность {s.precision:.3f}, полнота {s.recall:.3f}, "
                  f"F1 {s.f1:.3f} на {s.n} решениях")
    print(result.message)
    return 0 if result.installed is not None or result.before is not None else 1
