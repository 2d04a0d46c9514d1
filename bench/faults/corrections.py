"""Concurrent corrections: several API clients send the same correction at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time

from sqlalchemy import func, select

from bench.faults.harness import SECRET, Context
from bench.faults.report import Result
from bench.faults.school import school_with_grades
from hub.notify.models import Notification


async def concurrent_corrections(ctx: Context) -> Result:
    """5 API clients send the same correction of 200 marks at once: the marks were first
    posted through the same token (a grade is corrected only by its own source)."""
    from aiohttp import ClientSession, web

    from hub.auth.access import TokenScope
    from hub.auth.tokens import issue_token
    from hub.compose import web_app
    from hub.config import Settings

    assert ctx.postgres is not None
    marks = 200
    url = await ctx.postgres.fresh(f"faults_corrections_{random.randrange(10**6)}")
    db = await school_with_grades(url, marks)
    async with db.transaction() as session:
        token = await issue_token(session, db.school_id, "bench",  # type: ignore[attr-defined]
                                  [TokenScope.JOURNAL])
    settings = Settings(data_dir=ctx.folder / "var", secret_key=SECRET, embedded_worker=False)
    app = web_app(settings, db=db)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    day = (dt.date.today() - dt.timedelta(days=1)).isoformat()

    def items(value: int) -> list[dict[str, object]]:
        return [{"source_id": f"g-{s}", "student_id": s, "date": day, "subject": "Математика",
                 "value": value} for s in db.students]  # type: ignore[attr-defined]

    try:
        async with ClientSession(headers={"Authorization": f"Bearer {token.secret}"}) as client:
            async def send(value: int) -> int:
                async with client.post(f"http://127.0.0.1:{port}/api/v1/grades",
                                       json={"items": items(value)}) as answer:
                    return answer.status

            assert await send(3) == 200
            started = time.monotonic()
            statuses = await asyncio.gather(*(send(4) for _ in range(5)))
    finally:
        await runner.cleanup()
    async with db.session() as session:
        notices = await session.scalar(select(func.count()).select_from(Notification).where(
            Notification.title.startswith("Исправлена"))) or 0
        all_notes = await session.scalar(select(func.count()).select_from(Notification)) or 0
    await db.dispose()
    corrections = all_notes - marks  # the first notices were the original grades
    return Result("5 clients send the same correction of 200 marks at once",
                  created=marks, delivered=corrections, duplicated=max(0, corrections - marks),
                  drain=time.monotonic() - started,
                  note=f"answers {sorted(statuses)}; correction notices {corrections}"
                       f" ({notices} titled as corrections)")
