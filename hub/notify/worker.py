"""The delivery worker: the loop that claims due deliveries in batches, sends each through
its channel, and turns whatever the channel answers or raises into an outcome.

The worker owns the loop and the error handling, and nothing else: what it claims and for
how long is `claims`, what a delivery sends is `envelopes`, what a send came to is recorded
by `outcomes` (with `fallback` to e-mail). A channel's bug or a slow provider never stops
the queue: every exception ends as a recorded outcome, and a failed round (the database
restarting) is tried again at the next wake-up or poll.

Wake-ups come through the broker (Redis, or in-process) after an outbox commit; a lost
wake-up delays a delivery by at most the poll interval. Sends of a batch run a few at a
time. Leases are short, and a heartbeat renews the batch's claims while the worker works on
it, so a killed worker's deliveries are taken over within one lease. Each send goes on the
wire only after its "sending" mark is committed (claims.start): exactly one attempt per
claim, counted only then. Sends share one acceptance window (hub.notify.acceptance): a
message's DATA ends only once the previous one accepted has its outcome committed, so a
worker killed after a 250 leaves at most that one message unrecorded. A round that stops
(a stop request, the database away) hands back the claims it did not attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from collections import deque
from dataclasses import dataclass, replace

from hub.broker import Broker, get_broker
from hub.config import Settings
from hub.db import Database
from hub.notify.acceptance import AcceptanceWindow
from hub.notify.channel import Channel, ChannelName, PermanentFailure, TemporaryFailure
from hub.notify.claims import Claimed, Claims
from hub.notify.outbox import WAKE_CHANNEL
from hub.notify.outcomes import DUPLICATES, Outcomes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 100
    concurrency: int = 4  # sends in flight at once
    lease: float = 30.0  # seconds a claim is held unless the heartbeat renews it
    send_timeout: float = 60.0  # a send's own limit; the heartbeat keeps its claim meanwhile
    # Writes of "sending" marks and outcomes that may run at once on PostgreSQL (SQLite has
    # one writer): one started while another commits keeps the 250-to-"sent" window short.
    parallel_writes: int = 2
    # How long a send waits for its turn to end DATA while another message of this worker
    # is accepted but not yet recorded (longer only when that one is stalled).
    acceptance_wait: float = 2.0
    max_attempts: int = 8  # then the delivery is dead
    poll_interval: float = 3.0  # a lost wake-up delays by at most this much
    backoff_base: float = 30.0
    backoff_cap: float = 6 * 3600.0


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        channels: dict[ChannelName, Channel],
        *,
        worker_id: str | None = None,
        config: WorkerConfig | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        # The broker its wake-ups come through: the process's, unless the host app has its own.
        self.broker = broker
        self.channels = channels
        self.id = worker_id or new_worker_id()
        self.config = config or WorkerConfig()
        writes = 1 if db.is_sqlite else self.config.parallel_writes  # SQLite: one writer
        self.claims = Claims(db, self.id, lease=self.config.lease,
                             batch_size=self.config.batch_size, public_url=settings.public_url,
                             parallel=writes)
        self.outcomes = Outcomes(db, self.id, self.config, parallel=writes)
        self.window = AcceptanceWindow(self.config.acceptance_wait)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set: finish the sends in flight, release the rest."""
        woken = asyncio.Event()
        listener = asyncio.create_task(self._listen(woken))
        log.info("worker %s started, channels: %s", self.id, ",".join(self.channels) or "-")
        failures = 0
        try:
            while not stop.is_set():
                woken.clear()
                try:
                    done = await self.run_once(stop)
                except Exception as exc:  # the database may be restarting: try again shortly
                    failures += 1
                    if failures == 1:
                        log.warning("worker %s: a round failed (%s), backing off", self.id,
                                    type(exc).__name__)
                    await _first(stop, asyncio.Event(),
                                 seconds=min(self.config.poll_interval * failures, 30.0))
                    continue
                if failures:
                    log.info("worker %s: working again after %d failed round(s)", self.id,
                             failures)
                    failures = 0
                if done >= self.config.batch_size:
                    continue
                await _first(stop, woken, seconds=self.config.poll_interval)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            log.info("worker %s stopped", self.id)

    async def _listen(self, woken: asyncio.Event) -> None:
        """Wake-ups from the broker; on a broker outage, poll and subscribe again."""
        while True:
            try:
                async with (self.broker or get_broker()).subscribe(WAKE_CHANNEL) as messages:
                    woken.set()  # something may have come in while we were not listening
                    async for _ in messages:
                        woken.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("worker %s: wake-ups unavailable (%s), polling",
                            self.id, type(exc).__name__)
                woken.set()
                await asyncio.sleep(1.0)

    async def claim(self, now: dt.datetime | None = None) -> list[Claimed]:
        """Claim one batch due on this worker's channels."""
        return await self.claims.claim(self.channels, now)

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Claim one batch, send it, record every outcome; the number of deliveries
        claimed. Whatever was not attempted is handed back, even when the round fails.

        A delivery whose last attempt's fate is unknown goes first and alone, its outcome
        recorded before anything else goes on the wire: a fault (the worker killed after
        another message's 250) cannot catch it between its 250 and its record a second
        time, so it is sent again at most once per fault that hit it."""
        if not self.channels:
            return 0
        claimed = await self.claim()
        if not claimed:
            return 0
        lanes = [(deque(c for c in claimed if c.resend), 1),
                 (deque(c for c in claimed if not c.resend), max(1, self.config.concurrency))]
        held = {item.delivery_id for item in claimed}  # ours until recorded or handed back
        attempted: set[int] = set()

        async def sender(pending: deque[Claimed]) -> None:
            while pending and not (stop is not None and stop.is_set()):
                item = pending.popleft()
                try:
                    await self._deliver(item, attempted)
                finally:
                    held.discard(item.delivery_id)

        queues = [pending for pending, _ in lanes]
        heartbeat = asyncio.create_task(self._heartbeat(held, queues))
        results: list[BaseException | None] = []
        try:
            for pending, width in lanes:
                results += await asyncio.gather(*(sender(pending) for _ in range(width)),
                                                return_exceptions=True)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            unattempted = [c.delivery_id for c in claimed if c.delivery_id not in attempted]
            if unattempted:
                with contextlib.suppress(Exception):
                    await self.claims.release(unattempted)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(claimed)

    async def _heartbeat(self, held: set[int], lanes: list[deque[Claimed]]) -> None:
        """Renew the batch's claims every third of a lease while the worker works on them;
        a claim found lost is not sent."""
        while True:
            await asyncio.sleep(self.config.lease / 3)
            if not held:
                continue
            try:
                kept, _ = await self.claims.renew(sorted(held))
            except Exception as exc:  # the database is away: the next beat tries again
                log.warning("worker %s: renewing claims failed (%s)", self.id,
                            type(exc).__name__)
                continue
            for pending in lanes:
                for lost in [c for c in pending if c.delivery_id not in kept]:
                    pending.remove(lost)
                    log.warning("delivery %s: claim lost before sending", lost.delivery_id)

    async def _deliver(self, claimed: Claimed, attempted: set[int]) -> None:
        """Mark, send and record one claimed delivery: whatever happens on the wire becomes
        its recorded outcome. A delivery whose address is gone (a chat that blocked the
        bot) fails over to e-mail like one refused on the wire."""
        if claimed.envelope is None:
            attempted.add(claimed.delivery_id)
            await self.outcomes.failed(claimed, "нет адреса для этого канала", permanent=True,
                                       fallback=True)
            return
        started = await self.claims.start(claimed.delivery_id)
        attempted.add(claimed.delivery_id)  # from here on it is never handed back
        if not started:
            log.info("delivery %s: withdrawn or taken over before sending", claimed.delivery_id)
            return
        claimed = replace(claimed, attempts=claimed.attempts + 1)
        if claimed.resend:
            DUPLICATES.labels(claimed.channel.value).inc()
            log.warning("delivery %s: the last attempt's outcome is unknown; sending again "
                        "with the same id", claimed.delivery_id)
        channel = self.channels[claimed.channel]
        assert claimed.envelope is not None
        async with self.window.turn() as turn:  # ends once the outcome is on record
            try:
                # A timeout block rather than wait_for: no task of its own, and the 250 is
                # acted on one turn of the loop sooner.
                async with asyncio.timeout(self.config.send_timeout):
                    provider_id = await channel.send(claimed.envelope, turn)
            except PermanentFailure as exc:
                await self.outcomes.failed(claimed, exc.reason, permanent=True,
                                           fallback=exc.fallback_to_email)
            except TemporaryFailure as exc:
                await self.outcomes.failed(claimed, exc.reason, retry_after=exc.retry_after,
                                           uncertain=exc.uncertain)
            except TimeoutError:
                await self.outcomes.failed(claimed, "канал не ответил вовремя", uncertain=True)
            except Exception as exc:  # a channel's bug must not stop the queue
                log.exception("delivery %s: channel %s raised", claimed.delivery_id,
                              claimed.channel)
                await self.outcomes.failed(claimed, f"ошибка канала: {type(exc).__name__}",
                                           uncertain=True)
            else:
                await self.outcomes.sent(claimed, str(provider_id))

    async def aclose(self) -> None:
        for channel in self.channels.values():
            try:
                await channel.aclose()
            except Exception:
                log.exception("closing channel %s failed", channel.name)


async def _first(stop: asyncio.Event, woken: asyncio.Event, *, seconds: float) -> None:
    """Wait until stopped, woken, or `seconds` have passed."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
