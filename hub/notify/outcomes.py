"""Recording what a send came to, on the delivery's row, at once: sent; tried again later
(after the server's retry_after, else an exponential backoff with jitter); failed for good;
dead after too many tries. A channel that failed for good may ask for e-mail instead.

An outcome is written only while the claim is still this worker's (claims.held_by), each
in its own transaction right after its send: the only window for a duplicate message is
between the provider accepting it and the "sent" row being committed, so a brief database
outage is waited out rather than losing the record.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from typing import TYPE_CHECKING

from prometheus_client import Counter
from sqlalchemy import update

from hub import clock
from hub.db import Database
from hub.notify.channel import ChannelName
from hub.notify.claims import Claimed, held_by
from hub.notify.fallback import fallback_to_email
from hub.notify.models import Delivery, DeliveryStatus

if TYPE_CHECKING:
    from hub.notify.worker import WorkerConfig

log = logging.getLogger(__name__)

OUTCOMES = Counter("hub_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"])


def backoff(attempts: int, config: WorkerConfig, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: half fixed, half random, capped."""
    delay = min(config.backoff_cap, config.backoff_base * 2 ** max(0, attempts - 1))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


class Outcomes:
    """Records the outcomes of one worker's claimed deliveries."""

    def __init__(self, db: Database, worker_id: str, config: WorkerConfig) -> None:
        self.db = db
        self.worker_id = worker_id
        self.config = config

    async def sent(self, claimed: Claimed, provider_id: str) -> None:
        await self._record(claimed, status=DeliveryStatus.SENT, provider_id=provider_id[:300],
                           sent_at=clock.now(), last_error=None)
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
    ) -> None:
        """Failed for good when `permanent`, dead after the last attempt, else due again
        later; `fallback` asks for e-mail instead (not when e-mail itself failed)."""
        if permanent:
            status, due = DeliveryStatus.FAILED, None
        elif claimed.attempts >= self.config.max_attempts:
            status, due = DeliveryStatus.DEAD, None
        else:
            delay = retry_after if retry_after is not None else backoff(
                claimed.attempts, self.config
            )
            status, due = DeliveryStatus.RETRY, clock.now() + dt.timedelta(seconds=delay)
        values: dict[str, object] = {"status": status, "last_error": reason[:500]}
        if due is not None:
            values["due_at"] = due
        recorded = await self._record(
            claimed, fallback=fallback and claimed.channel is not ChannelName.EMAIL, **values
        )
        OUTCOMES.labels(claimed.channel.value, status.value).inc()
        if recorded:
            log.info("delivery %s: %s after %d attempt(s)", claimed.delivery_id, status.value,
                     claimed.attempts)

    async def _record(self, claimed: Claimed, *, fallback: bool = False, **values: object) -> bool:
        """Record an outcome only if the claim is still ours; a few tries if the database
        is briefly away (the message is already out: losing the record means a duplicate)."""
        for attempt in range(5):
            try:
                async with self.db.transaction() as session:
                    result = await session.execute(
                        update(Delivery)
                        .where(held_by(self.worker_id, [claimed.delivery_id]))
                        .values(claimed_by=None, lease_until=None, **values)
                        .execution_options(synchronize_session=False)
                    )
                    ours = result.rowcount == 1  # type: ignore[attr-defined]
                    if ours and fallback:
                        await fallback_to_email(session, claimed.delivery_id)
                if not ours:
                    log.warning("delivery %s: claim lost before recording", claimed.delivery_id)
                return ours
            except Exception:
                if attempt == 4:
                    raise
                log.warning("delivery %s: recording failed, retrying", claimed.delivery_id)
                await asyncio.sleep(0.2 * 2**attempt)
        return False
