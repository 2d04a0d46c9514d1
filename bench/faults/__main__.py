"""`python -m bench.faults`: run the chosen scenarios and print their figures."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.faults import __doc__ as USAGE
from bench.faults import corrections, scenarios, telegram
from bench.faults.harness import Context
from bench.faults.report import Result, print_table
from bench.faults.services import Postgres

SCENARIOS: dict[str, Callable[[Context], Awaitable[Result]]] = {
    "none": scenarios.no_faults,
    "kills": scenarios.killed_every_1_3_s,
    "smtp": scenarios.smtp_refusals,
    "stalls": scenarios.smtp_stalls,
    "after250": scenarios.killed_after_250,
    "postgres": scenarios.postgres_restarted,
    "redis": scenarios.redis_outages,
    "sqlite": scenarios.sqlite_serve_killed,
    "telegram": telegram.telegram_blocked,
    "corrections": corrections.concurrent_corrections,
}


async def main() -> None:
    parser = argparse.ArgumentParser(description=(USAGE or "").split("\n")[0])
    parser.add_argument("--count", type=int, default=600, help="notifications per scenario")
    parser.add_argument("--only", help="comma-separated: " + ",".join(SCENARIOS))
    parser.add_argument("--backoff", type=float, default=5.0)
    parser.add_argument("--deadline", type=float, default=240.0,
                        help="seconds a scenario may take to drain")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(SCENARIOS))
        return
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    random.seed(11)
    folder = Path(tempfile.mkdtemp(prefix="hub-faults-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        os.chmod(folder, 0o777)
    ctx = Context(folder, args.count, args.backoff, args.deadline)
    needs_pg = any(c not in ("sqlite", "telegram") for c in chosen)
    results = []
    try:
        if needs_pg:
            ctx.postgres = Postgres(folder / "pg").init()
            ctx.postgres.start()
        for key in chosen:
            print(f"running {key} ...", flush=True)
            try:
                results.append(await SCENARIOS[key](ctx))
            except Exception as exc:  # one scenario's failure is reported, the rest run
                results.append(Result(key, note=f"scenario failed: {exc!r}"))
            print_table(results[-1:])
    finally:
        if ctx.postgres is not None:
            with contextlib.suppress(Exception):
                ctx.postgres.stop()
        if os.environ.get("HUB_FAULTS_KEEP"):
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print_table(results)


if __name__ == "__main__":
    asyncio.run(main())
