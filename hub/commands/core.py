"""`hub serve`, `hub migrate`, `hub user create`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from typing import Any

from aiohttp import web
from sqlalchemy import select

from hub import migrate
from hub.auth import accounts
from hub.commands.eventloop import new_event_loop
from hub.commands.processes import run_processes
from hub.compose import open_database, prepare_database, web_app
from hub.config import Settings
from hub.db import Database
from hub.school import Role, School, create_person, create_school


def add_commands(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the web server (and, embedded, a worker)")
    serve.add_argument("--host", help="address to listen on (default: HUB_HOST)")
    serve.add_argument("--port", type=int, help="port (default: HUB_PORT)")
    serve.add_argument(
        "--workers", type=int, default=1,
        help="web processes sharing the port (SO_REUSEPORT); live events and rate limits "
        "span them only through Redis (HUB_REDIS_URL)",
    )
    serve.set_defaults(func=cmd_serve)

    migrate_parser = subparsers.add_parser("migrate", help="bring the database schema up to date")
    migrate_parser.set_defaults(func=cmd_migrate)

    user = subparsers.add_parser("user", help="accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    create = user_commands.add_parser("create", help="create a person with an account")
    create.add_argument("login")
    create.add_argument("--last-name", required=True)
    create.add_argument("--first-name", required=True)
    create.add_argument("--email")
    create.add_argument(
        "--role", action="append", choices=[r.value for r in Role], required=True,
        help="may be given several times",
    )
    create.add_argument("--school", help="school slug (default: the only school)")
    create.add_argument(
        "--invite", action="store_true",
        help="print an invitation link instead of an initial password",
    )
    create.set_defaults(func=cmd_user_create)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    asyncio.run(prepare_database(settings))
    host, port = args.host or settings.host, args.port or settings.port
    workers = max(1, args.workers or 1)

    def serve(index: int) -> None:
        # The embedded delivery worker runs in the first process only.
        own = settings if index == 0 else settings.model_copy(update={"embedded_worker": False})
        app = web_app(own)

        async def announce(_app: web.Application) -> None:
            elapsed = time.perf_counter() - started
            more = f", {workers} processes" if workers > 1 else ""
            print(f"hub: serving on http://{host}:{port} (ready in {elapsed:.2f} s{more})",
                  flush=True)
            for warning in settings.startup_warnings():
                print(f"hub: warning: {warning}", file=sys.stderr, flush=True)

        app.on_startup.append(_freeze_startup_objects)
        if index == 0:
            app.on_startup.append(announce)
        web.run_app(app, host=host, port=port, print=None, access_log=None,
                    reuse_port=workers > 1 or None, loop=new_event_loop())

    if workers == 1:
        serve(0)
        return 0
    if not settings.redis_url:
        print("hub: without HUB_REDIS_URL each process has its own live events and rate "
              "limits", file=sys.stderr)
    return run_processes(workers, serve)


async def _freeze_startup_objects(_app: web.Application) -> None:
    """What starting made (modules, mappers, compiled statements, the application) lives as
    long as the process: kept out of the garbage collector's sight, a full collection walks
    what requests made instead of some 200,000 objects. A request frees nearly all it makes
    by reference counting, so the collector runs after 20,000 net new objects rather than
    700: its share of a page's CPU drops from 3-7% to almost nothing (bench/forum.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db)
        current, _ = await migrate.state(db)
        print(f"hub: database at revision {current}")
    finally:
        await db.dispose()


async def cmd_user_create(settings: Settings, args: argparse.Namespace) -> int:
    db = await open_database(settings)
    try:
        async with db.transaction() as session:
            school = await _school(session, args.school)
            person = await create_person(
                session, school.id, last_name=args.last_name, first_name=args.first_name,
                email=args.email, roles=[Role(r) for r in args.role],
            )
            issued = await accounts.issue_account(
                session, person, args.login, with_password=not args.invite
            )
    except accounts.AccountError as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    if issued.invitation_token:
        print(f"invitation: {settings.public_url}/invite/{issued.invitation_token} (7 days)")
    else:
        print(f"login: {issued.account.login}\ninitial password: {issued.initial_password} "
              "(must be changed at first sign-in)")
    return 0


async def _school(session: Any, slug: str | None) -> School:
    schools = list(await session.scalars(select(School)))
    if slug:
        for school in schools:
            if school.slug == slug:
                return school
        raise accounts.AccountError(f"нет школы «{slug}»")
    if len(schools) == 1:
        return schools[0]
    if not schools:
        return await create_school(session, "Школа", "school")
    raise accounts.AccountError("школ несколько: укажите --school")
