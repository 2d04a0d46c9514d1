"""Start-up time of `hub serve` on an empty database; the signed-in profile and /healthz
beside aiohttp's hello-world and the one-query ceiling (bench/pageload.py); and the same
pages from `hub serve --workers N`, on this machine, in one run.

    .venv/bin/python bench/serve.py [--concurrency 32] [--seconds 10] [--workers 2]

Every server runs as a subprocess on 127.0.0.1 under wrk (2 threads). Prints requests per
second, the servers' CPU time per request and each figure's share of the ceiling, and what
N processes give over one; asserts nothing. On a 2-core machine wrk itself takes a share of
the cores the processes would use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
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

from bench import pageload  # noqa: E402

HELLO_APP = textwrap.dedent("""
    import sys
    from aiohttp import web

    async def hello(request):
        return web.Response(text="Hello, world")

    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
""")
HUB = [sys.executable, "-c", "from hub.cli import main; main()"]
PASSWORD = "bench-password-57"


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


def invitation_token(env: dict[str, str]) -> str:
    """A parent account made with `hub user create --invite`: its invitation token."""
    out = subprocess.run(
        [*HUB, "user", "create", "bench.parent", "--last-name", "Тестова",
         "--first-name", "Анна", "--role", "parent", "--invite"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    found = re.search(r"/invite/(\S+)", out)
    if found is None:
        raise SystemExit(f"no invitation in: {out!r}")
    return found.group(1)


async def sign_in_by_invitation(base: str, token: str) -> str:
    """Accept the invitation like a browser; returns the session cookie."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{base}/invite/{token}") as response:
            response.raise_for_status()
        csrf = next(c.value for c in jar if c.key == "hub_csrf")
        async with session.post(
            f"{base}/invite/{token}",
            data={"csrf_token": csrf, "password": PASSWORD, "repeat": PASSWORD},
            allow_redirects=False,
        ) as response:
            if response.status != 303:
                raise SystemExit(f"accepting the invitation failed: {response.status}")
        cookie = next(c.value for c in jar if c.key == "hub_session")
        async with session.get(f"{base}/profile") as response:
            if response.status != 200 or "Тестова" not in await response.text():
                raise SystemExit(f"the profile page answered {response.status} without the "
                                 "signed-in person")
    return f"hub_session={cookie}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10, help="wrk: duration per server")
    parser.add_argument("--workers", type=int, default=2, help="processes to compare with one")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/serve.py needs wrk")
    load = {"seconds": args.seconds, "connections": args.concurrency, "threads": 2}

    with tempfile.TemporaryDirectory() as folder:
        env = {
            "HUB_DATA_DIR": str(Path(folder) / "var"),
            "HUB_LOG_LEVEL": "WARNING",
            "HUB_EMBEDDED_WORKER": "false",
        }
        started = time.perf_counter()
        hub, base = pageload.start_hub(env)
        startup = time.perf_counter() - started
        full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
                    **env, "PYTHONPATH": str(REPO)}
        hello = ceiling = None
        figures: dict[str, pageload.Figure] = {}
        try:
            cookie = asyncio.run(sign_in_by_invitation(base, invitation_token(full_env)))
            hello_port = free_port()
            hello = subprocess.Popen([sys.executable, "-c", HELLO_APP, str(hello_port)])
            asyncio.run(wait_until_up(f"http://127.0.0.1:{hello_port}/", hello))
            ceiling, ceiling_url = pageload.start_ceiling(
                f"sqlite+aiosqlite:///{Path(folder) / 'var' / 'hub.db'}")
            one = pageload.process_tree(hub.pid)
            figures["ceiling: one SQLAlchemy query"] = pageload.wrk(
                ceiling_url, [ceiling.pid], **load)
            figures["aiohttp hello-world"] = pageload.wrk(
                f"http://127.0.0.1:{hello_port}/", [hello.pid], **load)
            figures["hub /healthz, 1 process"] = pageload.wrk(f"{base}/healthz", one, **load)
            figures["hub /profile, 1 process"] = pageload.wrk(
                f"{base}/profile", one, cookie=cookie, **load)
            pageload.stop(hub)
            hub, base = pageload.start_hub(env, workers=args.workers)
            many = pageload.process_tree(hub.pid)
            figures[f"hub /healthz, {args.workers} processes"] = pageload.wrk(
                f"{base}/healthz", many, **load)
            figures[f"hub /profile, {args.workers} processes"] = pageload.wrk(
                f"{base}/profile", many, cookie=cookie, **load)
        finally:
            for process in (hub, hello, ceiling):
                pageload.stop(process)

    print(f"hub serve start-up on an empty SQLite database (to /healthz): {startup:.2f} s")
    pageload.report(
        f"bench/serve.py: wrk, {args.concurrency} connections, {args.seconds} s each, SQLite, "
        f"{os.cpu_count()} CPUs (CPU ms/req: all of a server's processes)",
        figures, "ceiling: one SQLAlchemy query")
    for page in ("healthz", "profile"):
        alone = figures[f"hub /{page}, 1 process"].rate
        together = figures[f"hub /{page}, {args.workers} processes"].rate
        print(f"/{page}: {args.workers} processes give {together / alone:.2f}× one process's "
              "requests per second")


if __name__ == "__main__":
    main()
