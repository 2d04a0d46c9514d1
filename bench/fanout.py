"""Fan-out of one school-wide announcement into the outbox: how long the publishing
transaction takes for N recipients.

    .venv/bin/python bench/fanout.py [--parents 10000] [--database-url URL]

Builds a school of N/2 students in 30 classes, each with two guardians who consent to
notifications and have an e-mail address (bulk inserts), then publishes one announcement
to the whole school, the way the board does, and times that one transaction (recipients
resolved, one notification per parent, one e-mail delivery each). Prints the time and the
rows written. With a PostgreSQL URL a fresh database is made and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from forum import board  # noqa: E402
from forum.models import Audience  # noqa: E402
from hub import clock  # noqa: E402
from hub.auth.access import load_principal  # noqa: E402
from hub.compose import configure, database  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.db import Database  # noqa: E402
from hub.notify.models import Delivery, Notification  # noqa: E402
from hub.school import (  # noqa: E402
    Consent,
    ConsentPurpose,
    Enrolment,
    Guardianship,
    Person,
    Role,
    RoleGrant,
    SchoolClass,
    create_person,
    create_school,
)


async def build(db: Database, parents: int) -> int:
    """The school; returns the coordinator's person id."""
    now = clock.now()
    students = parents // 2
    async with db.transaction() as session:
        school = await create_school(session, "Школа № 1", "bench")
        coordinator = await create_person(session, school.id, last_name="Главная",
                                          first_name="Елена", roles=[Role.COORDINATOR])
        classes = [SchoolClass(school_id=school.id, name=f"{5 + n // 6}{'АБВГДЕ'[n % 6]}")
                   for n in range(30)]
        session.add_all(classes)
        await session.flush()
        first = (await session.scalar(select(func.max(Person.id)))) + 1
        people = [{"id": first + n, "school_id": school.id, "last_name": f"Фамилия{n}",
                   "first_name": "Имя", "email": f"p{n}@example.org", "created_at": now}
                  for n in range(students + parents)]
        await session.execute(insert(Person), people)
        student_ids = [first + n for n in range(students)]
        parent_ids = [first + students + n for n in range(parents)]
        await session.execute(insert(RoleGrant), [{"person_id": p, "role": Role.STUDENT}
                                                  for p in student_ids])
        await session.execute(insert(RoleGrant), [{"person_id": p, "role": Role.PARENT}
                                                  for p in parent_ids])
        await session.execute(insert(Enrolment), [
            {"student_id": s, "class_id": classes[n % 30].id} for n, s in enumerate(student_ids)
        ])
        await session.execute(insert(Guardianship), [
            {"parent_id": p, "child_id": student_ids[n // 2]} for n, p in enumerate(parent_ids)
        ])
        await session.execute(insert(Consent), [
            {"person_id": p, "purpose": ConsentPurpose.NOTIFICATIONS, "given_at": now}
            for p in parent_ids
        ])
        return coordinator.id


async def run(url: str, parents: int) -> None:
    db = database(url)
    await db.create_all()
    coordinator_id = await build(db, parents)
    async with db.session() as session:
        principal = await load_principal(session, await session.get_one(Person, coordinator_id))
    started = time.perf_counter()
    async with db.transaction() as session:
        await board.create_announcement(session, principal, board.Draft(
            title="Собрание", body="Общешкольное собрание в четверг.", audience=Audience.SCHOOL,
        ), data_dir=Path(tempfile.gettempdir()))
    elapsed = time.perf_counter() - started
    async with db.session() as session:
        notifications = await session.scalar(select(func.count()).select_from(Notification))
        deliveries = await session.scalar(select(func.count()).select_from(Delivery))
    await db.dispose()
    backend = db.engine.dialect.name
    print(f"bench/fanout.py: one school-wide announcement to {parents} parents, {backend}: "
          f"{elapsed:.2f} s ({notifications} notifications, {deliveries} deliveries)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--parents", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    configure(Settings(secret_key="bench-" + "x" * 40))
    if not args.database_url:
        with tempfile.TemporaryDirectory() as folder:
            await run(f"sqlite+aiosqlite:///{folder}/hub.db", args.parents)
        return
    name = f"fanout_{uuid.uuid4().hex[:10]}"
    admin = Database(args.database_url, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        await run(args.database_url.rsplit("/", 1)[0] + "/" + name, args.parents)
    finally:
        async with admin.engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
