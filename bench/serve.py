"""Start-up time of `hub serve` on an empty database, and the request rate of a signed-in
page (the profile) side by side with aiohttp's bare hello-world, on this machine, in one run.

    .venv/bin/python bench/serve.py [--requests 5000] [--concurrency 32] [--client]

Both servers run as subprocesses on 127.0.0.1. Load comes from `wrk` when it is installed
(unless --client), otherwise from a bounded aiohttp client (N concurrent, a fixed number of
requests). Prints the figures and the ratio; asserts nothing.
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


async def client_rate(url: str, requests: int, concurrency: int, cookie: str | None) -> float:
    """Requests per second with `concurrency` workers sharing `requests` requests."""
    headers = {"Cookie": cookie} if cookie else {}
    remaining = requests
    errors: list[int] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with session.get(url, allow_redirects=False) as response:
                    await response.read()
                    if response.status != 200:
                        errors.append(response.status)

        for _ in range(min(200, requests // 10 or 1)):  # warm-up
            async with session.get(url, allow_redirects=False) as response:
                await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} requests to {url} did not answer 200: {errors[:5]}")
    return requests / elapsed


def wrk_rate(url: str, concurrency: int, seconds: int, cookie: str | None) -> float:
    command = ["wrk", "-t", "2", "-c", str(concurrency), "-d", f"{seconds}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw non-2xx answers from {url}:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="aiohttp client: requests")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10, help="wrk: duration per server")
    parser.add_argument("--client", action="store_true", help="use the aiohttp client, not wrk")
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None and not args.client

    with tempfile.TemporaryDirectory() as folder:
        hub_port, hello_port = free_port(), free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
            "HUB_DATA_DIR": str(Path(folder) / "var"),
            "HUB_PORT": str(hub_port),
            "HUB_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(REPO),
        }
        base = f"http://127.0.0.1:{hub_port}"
        started = time.perf_counter()
        hub = subprocess.Popen([*HUB, "serve"], env=env, stdout=subprocess.DEVNULL)
        hello = None
        try:
            asyncio.run(wait_until_up(f"{base}/healthz", hub))
            startup = time.perf_counter() - started
            cookie = asyncio.run(sign_in_by_invitation(base, invitation_token(env)))

            hello = subprocess.Popen([sys.executable, "-c", HELLO_APP, str(hello_port)])
            asyncio.run(wait_until_up(f"http://127.0.0.1:{hello_port}/", hello))

            targets = (("hub /profile (signed in)", f"{base}/profile", cookie),
                       ("hub /healthz (one query)", f"{base}/healthz", None),
                       ("aiohttp hello-world", f"http://127.0.0.1:{hello_port}/", None))
            rates = {}
            for name, url, with_cookie in targets:
                if use_wrk:
                    rates[name] = wrk_rate(url, args.concurrency, args.seconds, with_cookie)
                else:
                    rates[name] = asyncio.run(client_rate(
                        url, args.requests, args.concurrency, with_cookie
                    ))
        finally:
            for process in (hub, hello):
                if process is not None:
                    process.terminate()
                    process.wait(10)

    load = (f"wrk, {args.concurrency} connections, {args.seconds} s each" if use_wrk else
            f"aiohttp client, {args.concurrency} concurrent, {args.requests} requests each")
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {load}")
    print(f"hub serve start-up on an empty SQLite database (to /healthz): {startup:.2f} s")
    for name, rate in rates.items():
        print(f"{name:<28} {rate:10.0f} requests/s")
    profile, bare = rates["hub /profile (signed in)"], rates["aiohttp hello-world"]
    print(f"ratio profile / hello-world: {profile / bare:.4f} "
          f"(hello-world answers {bare / profile:.0f}× as many)")


if __name__ == "__main__":
    main()
