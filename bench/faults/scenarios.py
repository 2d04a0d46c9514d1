"""The e-mail scenarios: the pipeline's `hub worker` (or `hub serve`) processes under one
fault each."""

from __future__ import annotations

import asyncio
import random
import time

from bench.faults.harness import Context, Stage, email_scenario
from bench.faults.report import Result
from bench.faults.school import post_grades


async def no_faults(ctx: Context) -> Result:
    return await email_scenario(ctx, "no faults")


async def killed_every_1_3_s(ctx: Context) -> Result:
    async def kill(stage: Stage) -> None:
        until = time.monotonic() + 20
        kills = 0
        while time.monotonic() < until and kills < 20:
            await asyncio.sleep(random.uniform(1, 3))
            stage.procs.kill_one()
            kills += 1

    return await email_scenario(ctx, "workers SIGKILLed every 1-3 s (20 s)", during=kill)


async def killed_after_250(ctx: Context) -> Result:
    return await email_scenario(ctx, "worker killed right after the server's 250 (2%)",
                                faults={"kill_pct": 2})


async def smtp_refusals(ctx: Context) -> Result:
    return await email_scenario(
        ctx, "SMTP 421/451 for 20 s, 550 for 10%, 1% of DATA kept then dropped",
        faults={"refuse_seconds": 20, "reject_pct": 10, "drop_pct": 1})


async def smtp_stalls(ctx: Context) -> Result:
    return await email_scenario(ctx, "0.4% of DATA stalled 45 s (SMTP timeout 30 s)",
                                faults={"stall_pct": 0.4, "stall_seconds": 45})


async def postgres_restarted(ctx: Context) -> Result:
    async def restart(stage: Stage) -> None:
        pg = stage.postgres
        assert pg is not None
        await asyncio.sleep(1.0)
        await asyncio.to_thread(pg.restart)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(pg.stop)
        await asyncio.sleep(20)
        await asyncio.to_thread(pg.start)

    return await email_scenario(ctx, "PostgreSQL restarted, then down 20 s", during=restart)


async def sqlite_serve_killed(ctx: Context) -> Result:
    async def kill(stage: Stage) -> None:
        for _ in range(2):
            await asyncio.sleep(1.5)
            stage.procs.kill_one()

    return await email_scenario(ctx, "SQLite, hub serve SIGKILLed twice", during=kill,
                                sqlite=True, serve=True)


async def redis_outages(ctx: Context) -> Result:
    """Redis (the wake-ups between this process and the workers) stops twice while grades
    keep coming: the first batch is being sent when it stops for 8 s, a second batch is
    posted during that outage, a third after it, then a 3 s outage. The workers poll
    meanwhile; nothing is lost or sent twice."""
    async def outages(stage: Stage) -> None:
        assert stage.redis is not None
        await asyncio.sleep(1.0)
        await stage.redis.stop()
        await post_grades(stage.db, value=4, prefix="during")
        await asyncio.sleep(8.0)
        await stage.redis.start()
        await post_grades(stage.db, value=3, prefix="after")
        await asyncio.sleep(1.0)
        await stage.redis.stop()
        await asyncio.sleep(3.0)
        await stage.redis.start()

    return await email_scenario(ctx, "Redis down 8 s, then 3 s, grades posted throughout",
                                during=outages, redis=True)
