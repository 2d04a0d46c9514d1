"""`hub serve --workers N`: N web processes sharing one port.

Each process listens on the same address with SO_REUSEPORT and the kernel spreads the
connections among them, so a machine's cores all serve pages. The parent only starts the
children (forked after the database is migrated, before any event loop or connection
exists), passes SIGTERM / SIGINT on, and stops them all when one dies.

What the processes share: the database; the write stamps of hub.stamps in the data folder,
so a revoked role or a deactivated account counts at once in every process; and, when
HUB_REDIS_URL is set, the sessions, the live events of open pages and the rate limits.
Without Redis each process has its own live events and in-process rate limits: a page open
in one process does not hear of a reply posted through another until it reloads.
Only the first process runs the embedded delivery worker.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable


def run_processes(count: int, serve: Callable[[int], None]) -> int:
    """Fork `count` children running `serve(index)`; wait for them; the exit status."""
    children: list[int] = []
    for index in range(count):
        pid = os.fork()
        if pid == 0:  # the child
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                serve(index)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)

    stopping = False

    def forward(signum: int, _frame: object) -> None:
        # Once: a second SIGTERM would cut a child's graceful shutdown short.
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    alive = set(children)
    while alive:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        alive.discard(pid)
        exit_code = os.waitstatus_to_exitcode(code)
        if exit_code not in (0, -signal.SIGTERM):
            status = status or 1
        if alive:  # one ended: the others end too, and a supervisor above restarts all
            forward(signal.SIGTERM, None)
    return status
