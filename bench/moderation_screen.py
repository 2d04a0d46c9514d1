"""How fast the publishing gate is: moderation.screening.screen (the author's mute, the
watched-words stamp check, the cached school detector) per message, on SQLite.

    .venv/bin/python -m bench.moderation_screen [messages]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hub.compose import database
from hub.school import Role, create_person, create_school
from moderation import watched
from moderation.screening import screen

TEXTS = [
    "Добрый день! Экскурсия в музей переносится на пятницу, сбор в 9:00 у школы.",
    "Ты тупой, ничего не понимаешь",
    "Спасибо учителю за подготовку к контрольной",
    "Кто знает, какое домашнее задание по математике на завтра?",
]


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await db.create_all()
        async with db.transaction() as session:
            school = await create_school(session, "Школа", "bench")
            person = await create_person(session, school.id, last_name="Автор",
                                         first_name="Тест", roles=[Role.PARENT])
            for pattern in ("контрольн*", "егэ", "физик?"):
                await watched.add_word(session, school_id=school.id, pattern=pattern,
                                       action="hold", created_by=None)
        timings = []
        async with db.session() as session:
            for i in range(count):
                started = time.perf_counter()
                await screen(session, school_id=school.id, author_id=person.id, title="",
                             text=TEXTS[i % len(TEXTS)])
                timings.append(time.perf_counter() - started)
        await db.dispose()
    timings.sort()
    total = sum(timings)
    print(f"screen(): {count} messages in {total:.2f} s = {count / total:.0f} msg/s; "
          f"median {statistics.median(timings) * 1000:.2f} ms, "
          f"p95 {timings[int(len(timings) * 0.95)] * 1000:.2f} ms, "
          f"first (detector build) {max(timings) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
