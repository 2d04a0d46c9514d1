"""What the page benchmarks share: servers in their own processes, load from `wrk`, and the
server's CPU time per request (from /proc), which is steadier than requests per second on
a shared machine.

The ceiling every page is compared with is a bare aiohttp handler that runs ONE SQLAlchemy
query (a person's name by primary key, through an AsyncSession) on the same database: what
any signed-in page costs at the very least.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")

CEILING_APP = textwrap.dedent("""
    import sys
    from aiohttp import web
    from sqlalchemy import select
    from hub.db import Database
    from hub.school import Person

    db = Database(sys.argv[2])

    async def one_query(request):
        async with db.session() as session:
            row = (await session.execute(
                select(Person.id, Person.last_name, Person.first_name).where(Person.id == 1)
            )).one()
        return web.Response(text=f"{row.last_name} {row.first_name}")

    app = web.Application()
    app.router.add_get("/", one_query)
    loop = None
    if sys.argv[3] == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None,
                loop=loop)
""")

HUB_APP = textwrap.dedent("""
    from hub.cli import main
    main()
""")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], limit: float = 120) -> None:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within {limit} s")


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (a `--workers N` supervisor's children)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent in found and int(entry.name) not in found:
            found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


@dataclass(frozen=True)
class Figure:
    rate: float  # requests per second
    cpu_ms: float  # server CPU per request
    requests: int


WRK_POST = """
counter = 0
request = function()
  counter = counter + 1
  local body = string.gsub(wrk.body, "{n}", tostring(math.random(1, 1000000000)) .. "-" .. counter)
  return wrk.format("POST", nil, nil, body)
end
"""


def wrk(url: str, pids: list[int], *, seconds: float, connections: int, threads: int = 1,
        cookie: str | None = None, post_body: str | None = None,
        expect: str = "2xx") -> Figure:
    """Load `url` with wrk; the server processes' CPU per request. A POST body may carry
    {n}, replaced by a unique value per request."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s"]
    headers = []
    if cookie:
        headers.append(f"Cookie: {cookie}")
    script = None
    if post_body is not None:
        headers.append("Content-Type: application/x-www-form-urlencoded")
        lua = WRK_POST.replace("wrk.body", repr_lua(post_body))
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(lua)
        script.close()
        command += ["-s", script.name]
    for header in headers:
        command += ["-H", header]
    before = cpu_seconds(pids)
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    used = cpu_seconds(pids) - before
    if script is not None:
        os.unlink(script.name)
    if expect == "2xx" and "Non-2xx" in out:
        raise SystemExit(f"wrk saw non-2xx answers from {url}:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rate is None or total is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    requests = int(total.group(1))
    return Figure(float(rate.group(1)), 1000 * used / max(requests, 1), requests)


def repr_lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_ceiling(database_url: str, *, loop: str = "asyncio"
                  ) -> tuple[subprocess.Popen[bytes], str]:
    """The ceiling on asyncio's event loop (a stock aiohttp application), or on uvloop (as
    `hub serve` runs when uvloop is installed)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", CEILING_APP, str(port), database_url, loop],
        env=env, cwd=REPO)
    url = f"http://127.0.0.1:{port}/"
    wait_until_up(url, process)
    return process, url


def start_hub(env: dict[str, str], *, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("HUB_")}, **env,
            "HUB_PORT": str(port), "HUB_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", HUB_APP, "serve"]
    if workers > 1:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(command, env=full, cwd=REPO, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/healthz", process)
    return process, base


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def report(title: str, figures: dict[str, Figure], ceiling: str, *, also: str | None = None
           ) -> None:
    """Each figure's share of the ceiling: by CPU per request, and by requests per second;
    with `also`, its share by CPU of a second reference too."""
    top = figures[ceiling]
    print(title)
    if also:
        print(f"(2nd reference: {also})")
    extra = f" {'÷2nd reference CPU':>19}" if also else ""
    print(f"{'':34} {'req/s':>8} {'CPU ms/req':>11} {'÷ceiling CPU':>13} {'÷ceiling req/s':>15}"
          + extra)
    for name, figure in figures.items():
        line = (f"{name:34} {figure.rate:8.0f} {figure.cpu_ms:11.2f} "
                f"{top.cpu_ms / figure.cpu_ms:13.2f} {figure.rate / top.rate:15.2f}")
        if also:
            line += f" {figures[also].cpu_ms / figure.cpu_ms:19.2f}"
        print(line)
