"""The faulty SMTP server: aiosmtpd in a process of its own, driven over its stdin. It can
refuse (421/451 for a while, 550 for some recipients), drop the connection after keeping
a message, stall DATA, and SIGKILL the sending worker right after a 250; it reports every
copy it accepted and every kill."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

SMTP_SCRIPT = r'''
import asyncio, contextlib, email, hashlib, json, os, random, signal, sys, time
from email import policy
from aiosmtpd.smtp import SMTP

faults = {}
accepted = []  # message ids, every copy
copies = []  # (message id, time, client port) of every copy
kills = []  # {"at", "trigger", "ports"} of every worker killed after a 250
rng = random.Random(7)

pids = {}  # client port -> the pid at the client end (a hub worker)
ports_of = {}  # pid -> its client ports

def client_pid(server_port, client_port):
    """The pid holding the client end of this connection (loopback, /proc)."""
    wanted = None
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        parts = line.split()
        local, remote, inode = parts[1], parts[2], parts[9]
        if int(local.split(":")[1], 16) == client_port and \
                int(remote.split(":")[1], 16) == server_port:
            wanted = f"socket:[{inode}]"
    if wanted is None:
        return None
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == wanted:
                    return int(pid)
        except OSError:
            continue
    return None

def know_client(server):
    """Find the worker at the other end once per connection, before any of its messages,
    so that a kill can follow a 250 within milliseconds."""
    port = server.transport.get_extra_info("peername")[1]
    if faults.get("kill_pct") and port not in pids:
        pid = client_pid(server.transport.get_extra_info("sockname")[1], port)
        pids[port] = pid
        ports_of.setdefault(pid, set()).add(port)

def chance(name):
    return rng.random() * 100 < faults.get(name, 0)

def accept(server, message):
    accepted.append(str(message["Message-ID"]))
    port = server.transport.get_extra_info("peername")[1]
    copies.append((str(message["Message-ID"]), time.monotonic(), port))

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, options):
        know_client(server)
        now = time.monotonic()
        if now < faults.get("refuse_until", 0):
            if rng.random() < 0.5:
                server.transport.close()
                return "421 4.3.2 Service not available, closing transmission channel"
            return "451 4.3.0 Try again later"
        if int(hashlib.md5(address.encode()).hexdigest(), 16) % 100 < faults.get("reject_pct", 0):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=policy.default)
        if chance("stall_pct"):
            accept(server, message)  # kept, though the answer is late
            await asyncio.sleep(faults.get("stall_seconds", 45))
            return "250 2.0.0 Ok (late)"
        if chance("drop_pct"):
            accept(server, message)  # kept, but the client never hears
            server.transport.abort()
            return "451 gone"
        accept(server, message)
        if chance("kill_pct"):
            port = server.transport.get_extra_info("peername")[1]
            def kill():
                pid = pids.get(port)
                if pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        kills.append({"at": time.monotonic(), "trigger": port,
                                      "ports": sorted(ports_of[pid])})
            asyncio.get_running_loop().call_later(0.002, kill)
        return "250 2.0.0 Ok: queued"

async def main():
    loop = asyncio.get_running_loop()
    handler = Handler()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink"), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if command["cmd"] == "faults":
            faults.clear()
            faults.update(command["faults"])
            if "refuse_seconds" in faults:
                faults["refuse_until"] = time.monotonic() + faults["refuse_seconds"]
        print(json.dumps({"accepted": accepted, "copies": copies, "kills": kills}),
              flush=True)

asyncio.run(main())
'''


class SmtpServer:
    """The faulty SMTP server in its own process, driven over its stdin."""

    async def start(self) -> SmtpServer:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SMTP_SCRIPT, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=1 << 26,
        )
        assert self.process.stdout is not None
        self.port = int((await self.process.stdout.readline()).decode())
        return self

    async def command(self, **command: object) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())

    async def faults(self, **faults: float) -> None:
        await self.command(cmd="faults", faults=faults)

    async def accepted(self) -> list[str]:
        return list((await self.command(cmd="stats"))["accepted"])

    async def stop(self) -> None:
        self.process.terminate()
        await self.process.wait()
