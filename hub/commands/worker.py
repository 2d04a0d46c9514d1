"""`hub worker`: delivery workers as a separate process (several may run side by side)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from redis.asyncio import Redis

from hub import compose
from hub.broker import RedisBroker, set_broker
from hub.commands.eventloop import new_event_loop
from hub.config import Settings
from hub.notify.worker import WorkerConfig

log = logging.getLogger("hub.worker")


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("worker", help="deliver notifications (e-mail, Telegram)")
    parser.add_argument("--id", help="this worker's name in the delivery log")
    parser.add_argument("--batch", type=int, default=WorkerConfig.batch_size,
                        help="deliveries claimed at once")
    parser.add_argument("--concurrency", type=int, default=WorkerConfig.concurrency,
                        help="sends in flight at once")
    parser.add_argument("--lease", type=float, default=WorkerConfig.lease,
                        help="seconds before a dead worker's claims are taken again")
    parser.add_argument("--poll", type=float, default=WorkerConfig.poll_interval,
                        help="seconds between polls when no wake-up comes")
    parser.add_argument("--backoff", type=float, default=WorkerConfig.backoff_base,
                        help="seconds before the first retry after a temporary failure")
    # uvloop where installed: each message's sends and commits cost less CPU in its loop.
    parser.set_defaults(func=cmd_worker, loop_factory=new_event_loop)


async def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    # A worker never changes the schema: `hub serve` or `hub migrate` does.
    db = compose.shared_database(settings)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        set_broker(RedisBroker(redis))
    config = WorkerConfig(
        batch_size=max(1, args.batch), concurrency=max(1, args.concurrency),
        # The heartbeat keeps a send's claim however long it takes: the send's own limit
        # need not fit inside the lease.
        lease=args.lease, send_timeout=WorkerConfig.send_timeout,
        poll_interval=args.poll, backoff_base=args.backoff,
    )
    worker = compose.worker(settings, db, worker_id=args.id, config=config)
    if not worker.channels:
        log.warning("no channel is configured: nothing will be sent")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"hub: worker {worker.id} running", flush=True)
    try:
        await worker.run(stop)
    finally:
        await worker.aclose()
        if redis is not None:
            await redis.aclose()
        await db.dispose()
    return 0
