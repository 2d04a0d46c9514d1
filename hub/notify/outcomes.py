"""Recording what a send came to, on the delivery's row: sent; tried again later (after the
server's retry_after, else an exponential backoff with jitter); failed for good; dead after
too many tries; a channel that failed for good may ask for e-mail instead.

An outcome is written only while the claim is still this worker's (claims.HELD). The
only window for a duplicate message is between the provider accepting it and the "sent"
row being committed, so that write is kept short: the outcomes of sends that finish
together go out as one compare-and-set UPDATE that commits on its own (one round trip),
through a GroupWriter that starts a second write at once on PostgreSQL rather than queue
behind a running one (SQLite has one writer). The write is retried for as long as the
claim's lease runs, so a database outage is waited out rather than losing the record.
An outcome whose fate is unknown (a dropped DATA, a timeout) keeps the row's
`attempt_started_at`, so the next attempt is counted as a possible duplicate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter
from sqlalchemy import bindparam, case, literal, update
from sqlalchemy.sql.dml import ReturningUpdate

from hub import clock
from hub.db import Database
from hub.notify.channel import ChannelName
from hub.notify.claims import DELIVERIES, HELD, Claimed, held_by
from hub.notify.fallback import fallback_to_email
from hub.notify.groupwrite import GroupWriter
from hub.notify.models import DeliveryStatus

if TYPE_CHECKING:
    from hub.notify.worker import WorkerConfig

log = logging.getLogger(__name__)

OUTCOMES = Counter("hub_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"])
DUPLICATES = Counter("hub_deliveries_possibly_duplicated_total",
                     "Sends that repeat an attempt whose outcome was never recorded", ["channel"])

def backoff(attempts: int, config: WorkerConfig, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: half fixed, half random, capped."""
    delay = min(config.backoff_cap, config.backoff_base * 2 ** max(0, attempts - 1))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


@dataclass(frozen=True)
class Outcome:
    """One row's new values, and whether its failure asks for e-mail instead."""

    delivery_id: int
    values: dict[str, Any] = field(hash=False)
    fallback: bool = False


class Outcomes:
    """Records the outcomes of one worker's claimed deliveries."""

    def __init__(self, db: Database, worker_id: str, config: WorkerConfig, *,
                 parallel: int = 1) -> None:
        """`parallel`: outcome writes that may run at once (1 on SQLite, one writer)."""
        self.db = db
        self.worker_id = worker_id
        self.config = config
        self._writer: GroupWriter[Outcome, bool] = GroupWriter(self._write, parallel=parallel)

    async def sent(self, claimed: Claimed, provider_id: str) -> None:
        await self._record(claimed, Outcome(claimed.delivery_id, {
            "status": DeliveryStatus.SENT, "provider_id": provider_id[:300],
            "sent_at": clock.now(), "last_error": None, "attempt_started_at": None,
        }))
        OUTCOMES.labels(claimed.channel.value, "sent").inc()
        log.debug("delivery %s sent", claimed.delivery_id)

    async def failed(
        self,
        claimed: Claimed,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        fallback: bool = False,
        uncertain: bool = False,
    ) -> None:
        """Failed for good when `permanent`, dead after the last attempt, else due again
        later; `fallback` asks for e-mail instead (not when e-mail itself failed);
        `uncertain` when the message may have got through all the same."""
        if permanent:
            status, due = DeliveryStatus.FAILED, None
        elif claimed.attempts >= self.config.max_attempts:
            status, due = DeliveryStatus.DEAD, None
        else:
            delay = retry_after if retry_after is not None else backoff(
                claimed.attempts, self.config
            )
            status, due = DeliveryStatus.RETRY, clock.now() + dt.timedelta(seconds=delay)
        values: dict[str, Any] = {"status": status, "last_error": reason[:500]}
        if due is not None:
            values["due_at"] = due
        if not uncertain:
            values["attempt_started_at"] = None
        recorded = await self._record(claimed, Outcome(
            claimed.delivery_id, values,
            fallback=fallback and claimed.channel is not ChannelName.EMAIL,
        ))
        OUTCOMES.labels(claimed.channel.value, status.value).inc()
        if recorded:
            log.info("delivery %s: %s after %d attempt(s)", claimed.delivery_id, status.value,
                     claimed.attempts)

    async def _record(self, claimed: Claimed, outcome: Outcome) -> bool:
        """Record an outcome if the claim is still ours, retrying while the database is
        away until the lease runs out (the message is out: losing the record means a
        duplicate once another worker takes the delivery over)."""
        tries, deadline = 0, None
        while True:
            try:
                ours = await self._writer.submit(outcome)
            except Exception as exc:
                tries += 1
                if deadline is None:  # the rest of the lease, and never less than one
                    left = (claimed.lease_until - clock.now()).total_seconds()
                    deadline = time.monotonic() + max(left, self.config.lease)
                if time.monotonic() >= deadline:
                    raise
                log.warning("delivery %s: recording failed (%s), retrying",
                            claimed.delivery_id, type(exc).__name__)
                await asyncio.sleep(min(0.2 * 2 ** min(tries, 5), 1.0))  # back soon after
                continue
            if not ours:
                log.warning("delivery %s: claim lost before recording", claimed.delivery_id)
            return ours

    async def _write(self, outcomes: Sequence[Outcome]) -> list[bool]:
        """One compare-and-set UPDATE per set of columns (sent, retry, failed: usually
        one), whose RETURNING names the rows still ours. This write is what stands between
        an accepted message and its record, so the usual batch (sends that went through)
        is that one statement committing on its own: one round trip. Fallbacks are added
        in the transaction that records their failures."""
        shapes: dict[tuple[str, ...], list[Outcome]] = {}
        for outcome in outcomes:
            shapes.setdefault(tuple(sorted(outcome.values)), []).append(outcome)
        updates = [self._update(rows) for rows in shapes.values()]
        ours: set[int] = set()
        if len(updates) == 1 and not any(o.fallback for o in outcomes):
            [(statement, params)] = updates
            async with self.db.autocommit(DELIVERIES.name) as conn:
                ours = set(await conn.scalars(statement, params))
            return [o.delivery_id in ours for o in outcomes]
        async with self.db.transaction() as session:
            for statement, params in updates:
                ours |= set(await session.scalars(statement, params))
            for outcome in outcomes:
                if outcome.fallback and outcome.delivery_id in ours:
                    await fallback_to_email(session, outcome.delivery_id)
        return [o.delivery_id in ours for o in outcomes]

    def _update(self, rows: Sequence[Outcome]) -> tuple[ReturningUpdate[tuple[int]],
                                                          dict[str, Any]]:
        """The statement and parameters that record `rows` (outcomes with the same
        columns) on the rows still ours: a statement built once per set of columns when
        the rows share their values (one row always does), else one with a CASE on the
        row's id where they differ."""
        params = held_by(self.worker_id, [o.delivery_id for o in rows])
        columns = tuple(sorted(rows[0].values))
        if all(o.values == rows[0].values for o in rows[1:]):
            return _recording(columns), params | {f"new_{c}": rows[0].values[c]
                                                  for c in columns}
        statement = (
            update(DELIVERIES).where(HELD)
            .values(claimed_by=None, lease_until=None,
                    **{c: _per_row(c, rows) for c in columns})
            .returning(DELIVERIES.c.id)
        )
        return statement, params


_RECORDING: dict[tuple[str, ...], ReturningUpdate[tuple[int]]] = {}


def _recording(columns: tuple[str, ...]) -> ReturningUpdate[tuple[int]]:
    """The UPDATE that records an outcome setting `columns` (parameters `new_<column>`),
    built once per set of columns."""
    statement = _RECORDING.get(columns)
    if statement is None:
        statement = _RECORDING[columns] = (
            update(DELIVERIES).where(HELD)
            .values(claimed_by=None, lease_until=None,
                    **{c: bindparam(f"new_{c}", type_=DELIVERIES.c[c].type) for c in columns})
            .returning(DELIVERIES.c.id)
        )
    return statement


def _per_row(column: str, rows: Sequence[Outcome]) -> Any:
    """The new value of `column`: the rows' common value, or a CASE on the row's id."""
    values = [o.values[column] for o in rows]
    if all(v == values[0] for v in values):
        return values[0]
    kind = DELIVERIES.c[column].type
    return case(*((DELIVERIES.c.id == o.delivery_id, literal(o.values[column], kind))
                  for o in rows))
