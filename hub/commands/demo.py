"""`hub demo`: load the demo school and print where to sign in."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hub.compose import open_database
from hub.config import Settings
from hub.demo import SCHOOL_NAME, load_demo
from hub.errors import UserError


def add_commands(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo", help="load the demo school «Школа № 57» and print the demo sign-ins"
    )
    demo.set_defaults(func=cmd_demo)


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    db = await open_database(settings)
    try:
        async with db.transaction() as session:
            result = await load_demo(session)
    except (ValueError, UserError) as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    if result.created:
        print(f"hub: демо-школа «{SCHOOL_NAME}» создана ({result.people} человек)")
    else:
        print(f"hub: демо-школа «{SCHOOL_NAME}» уже загружена, ничего не изменено")
    print(f"\nАдрес: {settings.public_url}\n")
    width = max(len(s.who) for s in result.sign_ins)
    login_width = max(len(s.login) for s in result.sign_ins)
    print(f"{'кто':<{width}}  {'логин':<{login_width}}  пароль")
    for sign_in in result.sign_ins:
        print(f"{sign_in.who:<{width}}  {sign_in.login:<{login_width}}  {sign_in.password}")
    print("\nУ каждого учителя и родителя демо-школы есть вход: логин — начало e-mail "
          "(фамилия.имя), пароль — как в таблице для его роли.")
    return 0
