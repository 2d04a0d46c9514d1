"""What a scenario came to: created, delivered, duplicated (and why each copy was repeated),
lost, dead, the time to drain; and the table that prints it."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.db import Database
from hub.notify.models import Delivery, DeliveryStatus


@dataclass
class Result:
    name: str
    created: int = 0
    delivered: int = 0
    duplicated: int = 0
    counted: int = 0
    lost: int = 0
    dead: int = 0
    drain: float = 0.0
    note: str = ""


async def sent_times(url: str) -> None:
    if not os.environ.get("HUB_FAULTS_KEEP"):
        return
    db = Database(url)
    async with db.session() as session:
        rows = (await session.execute(select(Delivery.created_at, Delivery.sent_at))).all()
    await db.dispose()
    lags = sorted((s - c).total_seconds() for c, s in rows if s is not None)
    if lags:
        print(f"    sent after: min {lags[0]:.1f} s, median {lags[len(lags) // 2]:.1f} s, "
              f"max {lags[-1]:.1f} s")


def delivery_of(message_id: str) -> int | None:
    """The delivery id in a hub Message-ID (<hub.{id}.{tag}@domain>)."""
    try:
        return int(message_id.strip("<>").split(".")[1])
    except (IndexError, ValueError):
        return None


async def count_email(result: Result, url: str, accepted: list[str]) -> Result:
    db = Database(url)
    try:
        async with db.session() as session:
            rows = (await session.execute(
                select(Delivery.id, Delivery.status, Delivery.possible_duplicates))).all()
    finally:
        await db.dispose()
    arrived = {delivery_of(m) for m in accepted}
    result.created = len(rows)
    result.delivered = len(arrived & {r.id for r in rows})
    result.duplicated = len(accepted) - len(set(accepted))
    result.counted = sum(r.possible_duplicates for r in rows)
    copies = max(Counter(accepted).values(), default=0)
    if copies > 1:
        result.note = f"at most {copies} copies of one message"
    result.dead = sum(r.status in (DeliveryStatus.FAILED, DeliveryStatus.DEAD) for r in rows)
    result.lost = sum(
        (r.id not in arrived and r.status not in (DeliveryStatus.FAILED, DeliveryStatus.DEAD))
        for r in rows)
    return result


def blame(copies: list[list[Any]], kills: list[dict[str, Any]]) -> tuple[Counter[str], int]:
    """Why each copy that was followed by another was repeated: it was the message whose
    250 triggered the kill; its 250 went out before the kill (the 250-to-commit window);
    the server took it after its worker had died (the 250 never reached the hub); or no
    kill explains it. And the most repeated copies blamed on any one kill."""
    by_id: dict[str, list[tuple[float, int]]] = {}
    for message_id, at, port in copies:
        by_id.setdefault(message_id, []).append((at, port))
    reasons: Counter[str] = Counter()
    per_kill: Counter[int] = Counter()
    for seen in by_id.values():
        for at, port in sorted(seen)[:-1]:
            near = [i for i, k in enumerate(kills) if port in k["ports"]]
            if not near:
                reasons["unexplained"] += 1
                continue
            index = min(near, key=lambda i: abs(kills[i]["at"] - at))
            kill = kills[index]
            per_kill[index] += 1
            if at >= kill["at"]:
                reasons["taken after the worker died"] += 1
            elif port == kill["trigger"]:
                reasons["triggered the kill"] += 1
            else:
                reasons["250 sent before the kill"] += 1
    return reasons, max(per_kill.values(), default=0)


def print_table(results: list[Result]) -> None:
    print()
    print(f"{'scenario':<66} {'created':>7} {'deliv.':>6} {'dup.':>5} {'counted':>7} "
          f"{'lost':>5} {'dead':>5} {'drain s':>8}")
    for r in results:
        print(f"{r.name[:66]:<66} {r.created:>7} {r.delivered:>6} {r.duplicated:>5} "
              f"{r.counted:>7} {r.lost:>5} {r.dead:>5} {r.drain:>8.1f}")
        if r.note:
            print(f"    {r.note}")
