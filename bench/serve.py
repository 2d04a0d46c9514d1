"""Start-up time of `hub serve` on an empty database; then the signed-in pages (profile,
board, a topic of 50 posts) and /healthz from one `hub serve` process and from
`hub serve --workers N`, beside aiohttp's hello-world and the one-query ceiling
(bench/pageload.py), on this machine, in one run.

    .venv/bin/python bench/serve.py [--concurrency 32] [--seconds 10] [--workers 2]
                                    [--wrk-threads 1] [--redis URL] [--database URL]

The pages are bench/forum.py's school (a coordinator, 20 announcements, a topic of 50
posts), signed in as a browser does. Every server runs as a subprocess on 127.0.0.1 under
wrk; one process and N processes run side by side and take turns, page by page, round
after round (the median of each counts). Prints requests per second, the servers' CPU
time per request, each figure's share of the ceiling, what N processes give over one and
the load average before and after; asserts nothing. wrk runs on the same cores as the
servers: one wrk thread (the default) leaves them more of the machine than two; on a
2-core machine N processes cannot reach N times one while wrk and the machine's other work
take their share. With --redis the processes share live events and rate limits through
Redis (as a deployment with --workers should).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp

# Run as a script, this folder comes first on sys.path, and bench/moderation.py would hide
# the moderation package: look in the repository instead.
REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench import forum, pageload  # noqa: E402
from hub.auth.secrets import use_cheap_hashing  # noqa: E402

HELLO_APP = textwrap.dedent("""
    import sys
    from aiohttp import web

    async def hello(request):
        return web.Response(text="Hello, world")

    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
""")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_up(url: str, process: subprocess.Popen[bytes], limit: float = 120) -> None:
    deadline = time.perf_counter() + limit
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"server exited with {process.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
    raise SystemExit(f"{url} did not answer within {limit} s")


def median(figures: list[pageload.Figure]) -> pageload.Figure:
    """The run with the median rate."""
    return sorted(figures, key=lambda f: f.rate)[len(figures) // 2]


PAGES = {
    "hub /healthz": "/healthz",
    "hub /profile": "/profile",
    "board": "/board",
    "topic of 50 posts": "/forum/topics/{topic}?page=1&size=50",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10, help="wrk: duration per server")
    parser.add_argument("--workers", type=int, default=2, help="processes to compare with one")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3,
                        help="turns each server takes under wrk per page (the median counts)")
    parser.add_argument("--redis", default="", help="HUB_REDIS_URL for the hub processes")
    parser.add_argument("--database", default="",
                        help="a PostgreSQL URL (a database is made and dropped); "
                        "default: SQLite in a temporary folder")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/serve.py needs wrk")
    load = {"seconds": args.seconds, "connections": args.concurrency,
            "threads": args.wrk_threads}
    use_cheap_hashing()
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory() as folder:
        env = {
            "HUB_DATA_DIR": str(Path(folder) / "var"),
            "HUB_LOG_LEVEL": "WARNING",
            "HUB_EMBEDDED_WORKER": "false",
        }
        started = time.perf_counter()
        hub, _ = pageload.start_hub(env)
        startup = time.perf_counter() - started
        pageload.stop(hub)

        school = Path(folder) / "school"
        school.mkdir()
        url, topic_id, dropped = asyncio.run(forum.prepare(args.database, school))
        env = {"HUB_DATA_DIR": str(school), "HUB_DATABASE_URL": url,
               "HUB_EMBEDDED_WORKER": "false", "HUB_SECRET_KEY": "bench-secret-" + "x" * 40}
        if args.redis:
            env["HUB_REDIS_URL"] = args.redis
        hub = hello = ceiling = one = many = None
        figures: dict[str, pageload.Figure] = {}
        try:
            hello_port = free_port()
            hello = subprocess.Popen([sys.executable, "-c", HELLO_APP, str(hello_port)])
            asyncio.run(wait_until_up(f"http://127.0.0.1:{hello_port}/", hello))
            ceiling, ceiling_url = pageload.start_ceiling(url)
            figures["ceiling: one SQLAlchemy query"] = pageload.wrk(
                ceiling_url, [ceiling.pid], **load)
            figures["aiohttp hello-world"] = pageload.wrk(
                f"http://127.0.0.1:{hello_port}/", [hello.pid], **load)
            # Both servers run at once and take turns under wrk, round after round: the
            # machine's other work drifts, and each server meets its share of it alike.
            one, one_base = pageload.start_hub(env)
            many, many_base = pageload.start_hub(env, workers=args.workers)
            servers = {1: (one, one_base), args.workers: (many, many_base)}
            cookies = {n: asyncio.run(forum.sign_in_cookies(b))[0]
                       for n, (_, b) in servers.items()}
            pids = {n: pageload.process_tree(p.pid) for n, (p, _) in servers.items()}
            for page, path in PAGES.items():
                runs: dict[int, list[pageload.Figure]] = {n: [] for n in servers}
                for _round in range(args.rounds):
                    for n, (_, b) in servers.items():
                        runs[n].append(pageload.wrk(f"{b}{path.format(topic=topic_id)}",
                                                    pids[n], cookie=cookies[n], **load))
                for n, measured in runs.items():
                    figures[f"{page}, {n} process{'es' if n > 1 else ''}"] = median(measured)
        finally:
            for process in (hub, hello, ceiling, one, many):
                pageload.stop(process)
            if dropped:
                asyncio.run(forum.drop(args.database, dropped))
    load_after = os.getloadavg()

    backend = "PostgreSQL" if dropped else "SQLite"
    print(f"hub serve start-up on an empty SQLite database (to /healthz): {startup:.2f} s")
    pageload.report(
        f"bench/serve.py: wrk {args.wrk_threads} thread(s), {args.concurrency} connections, "
        f"{args.seconds} s each, median of {args.rounds} turns, {backend}"
        f"{', Redis' if args.redis else ''}, "
        f"{os.cpu_count()} CPUs (CPU ms/req: all of a server's processes)",
        figures, "ceiling: one SQLAlchemy query")
    for page in PAGES:
        alone = figures[f"{page}, 1 process"]
        together = figures[f"{page}, {args.workers} processes"]
        print(f"{page}: {args.workers} processes give {together.rate / alone.rate:.2f}× one "
              f"process's requests per second (CPU per request {together.cpu_ms:.2f} ms "
              f"against {alone.cpu_ms:.2f} ms)")
    print("load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(
        *load_before, *load_after))


if __name__ == "__main__":
    main()
