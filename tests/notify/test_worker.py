"""The worker: claims, outcomes, retries with backoff, dead deliveries, leases, fallback."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update

from hub import clock
from hub.config import Settings
from hub.db import Database
from hub.notify.addresses import set_address
from hub.notify.channel import ChannelName
from hub.notify.models import Delivery, DeliveryStatus
from hub.notify.outcomes import backoff
from hub.notify.worker import Worker, WorkerConfig
from tests.notify.conftest import Family, post_grade
from tests.notify.doubles import RecordingChannel
from tests.support.school import SchoolBuilder


async def deliveries(db: Database) -> list[Delivery]:
    async with db.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def make_due(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(update(Delivery).where(Delivery.status == DeliveryStatus.RETRY)
                              .values(due_at=clock.now() - dt.timedelta(seconds=1)))


async def test_sent_is_recorded_with_the_providers_id(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    assert await Worker(settings, db, {ChannelName.EMAIL: channel}).run_once() == 1
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.provider_id == f"email-{delivery.id}"
    assert delivery.attempts == 1 and delivery.sent_at is not None
    assert delivery.claimed_by is None
    # Nothing is sent twice.
    assert await Worker(settings, db, {ChannelName.EMAIL: channel}).run_once() == 0
    assert len(channel.sent) == 1


async def test_temporary_failure_retries_later_then_succeeds(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    worker = Worker(settings, db, {ChannelName.EMAIL: channel})
    channel.fail_next(channel.temporary("451 4.3.0 try later"))
    before = clock.now()
    await worker.run_once()
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.RETRY
    assert delivery.last_error == "451 4.3.0 try later"
    # Backoff with jitter: between half and all of the base delay for the first retry.
    base = worker.config.backoff_base
    assert before + dt.timedelta(seconds=base / 2) <= delivery.due_at
    assert delivery.due_at <= clock.now() + dt.timedelta(seconds=base)
    assert await worker.run_once() == 0  # not due yet

    await make_due(db)
    await worker.run_once()
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.SENT and delivery.attempts == 2
    assert len(channel.sent) == 1


async def test_servers_retry_after_is_respected(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    channel.fail_next(channel.temporary("429 too many", retry_after=600))
    await Worker(settings, db, {ChannelName.EMAIL: channel}).run_once()
    [delivery] = await deliveries(db)
    wait = (delivery.due_at - clock.now()).total_seconds()
    assert 590 < wait <= 600


def test_backoff_grows_exponentially_and_is_capped() -> None:
    config = WorkerConfig(backoff_base=10, backoff_cap=100)
    for attempts, full in ((1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (12, 100)):
        delays = {backoff(attempts, config) for _ in range(50)}
        assert all(full / 2 <= d <= full for d in delays)
        assert len(delays) > 1  # jittered


async def test_after_max_attempts_the_delivery_is_dead_and_an_admin_can_retry(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    worker = Worker(settings, db, {ChannelName.EMAIL: channel},
                    config=WorkerConfig(max_attempts=3))
    channel.fail_next(*(channel.temporary() for _ in range(3)))
    for _ in range(3):
        await make_due(db)
        await worker.run_once()
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.DEAD and delivery.attempts == 3
    await make_due(db)
    assert await worker.run_once() == 0 and channel.sent == []


async def test_permanent_failure_is_recorded_and_never_retried(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    worker = Worker(settings, db, {ChannelName.EMAIL: channel})
    channel.fail_next(channel.permanent("550 5.1.1 no such user"))
    await worker.run_once()
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error == "550 5.1.1 no such user" and delivery.attempts == 1
    async with db.transaction() as session:
        await session.execute(update(Delivery).values(due_at=clock.now() - dt.timedelta(days=1)))
    assert await worker.run_once() == 0 and channel.sent == []


async def test_blocked_bot_falls_back_to_email(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family
) -> None:
    async with db.transaction() as session:
        await set_address(session, family.anna.id, ChannelName.TELEGRAM, "1001")
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    email, telegram = RecordingChannel(), RecordingChannel(ChannelName.TELEGRAM)
    telegram.fail_next(telegram.permanent("403 bot was blocked", fallback=True))
    worker = Worker(settings, db, {ChannelName.EMAIL: email, ChannelName.TELEGRAM: telegram})
    while await worker.run_once():
        pass
    # The default sends grades by e-mail and Telegram both: after the block, e-mail still
    # carries it once (no second e-mail for the same notification).
    assert telegram.sent == [] and len(email.sent) == 1
    rows = await deliveries(db)
    assert sorted((d.channel.value, d.status.value) for d in rows) == [
        ("email", "sent"), ("telegram", "failed")
    ]

    # With e-mail off for grades, the fallback creates the e-mail delivery.
    from hub.notify.channel import NotificationKind
    from hub.notify.preferences import Mode, set_mode
    async with db.transaction() as session:
        await set_mode(session, family.anna.id, NotificationKind.GRADES, ChannelName.EMAIL,
                       Mode.OFF)
    telegram.fail_next(telegram.permanent("403 bot was blocked", fallback=True))
    await post_grade(db, school.school_id, family.alice, 4, "j-2")
    while await worker.run_once():
        pass
    assert [e.items[0].title for e in email.sent][1:] == ["Оценка 4 по предмету «Математика»"]


async def test_claim_of_a_dead_worker_is_taken_again_after_its_lease(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    first_channel, second_channel = RecordingChannel(), RecordingChannel()
    dead = Worker(settings, db, {ChannelName.EMAIL: first_channel}, worker_id="dead",
                  config=WorkerConfig(lease=30))
    [claimed] = await dead.claim()  # ...and then the process is killed, before the wire
    other = Worker(settings, db, {ChannelName.EMAIL: second_channel}, worker_id="other")
    assert await other.run_once() == 0  # the lease still holds

    later = clock.now() + dt.timedelta(seconds=31)
    [taken] = await other.claim(now=later)
    # A claim is not an attempt, and nothing went on the wire: no duplicate to fear.
    assert taken.delivery_id == claimed.delivery_id and taken.attempts == 0
    assert not taken.resend
    # The first worker wakes up late: it must neither send nor overwrite the new claim.
    await dead._deliver(claimed, set())
    assert first_channel.sent == []
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.SENDING and delivery.claimed_by == "other"
    await other._deliver(taken, set())
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.SENT and delivery.claimed_by is None
    assert delivery.attempts == 1 and delivery.possible_duplicates == 0


async def test_a_send_whose_outcome_was_never_recorded_goes_again_as_a_possible_duplicate(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    dead = Worker(settings, db, {ChannelName.EMAIL: RecordingChannel()}, worker_id="dead")
    [claimed] = await dead.claim()
    assert await dead.claims.start(claimed.delivery_id)  # on the wire... and killed
    [delivery] = await deliveries(db)
    assert delivery.attempts == 1 and delivery.attempt_started_at is not None

    channel = RecordingChannel()
    other = Worker(settings, db, {ChannelName.EMAIL: channel}, worker_id="other")
    # Its worker may still be recording "sent" after an outage: one more lease first.
    assert await other.claim(now=clock.now() + dt.timedelta(seconds=31)) == []
    [taken] = await other.claim(now=clock.now() + dt.timedelta(seconds=61))
    assert taken.resend
    await other._deliver(taken, set())
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.SENT and delivery.attempt_started_at is None
    assert delivery.attempts == 2 and delivery.possible_duplicates == 1
    assert [e.delivery_id for e in channel.sent] == [delivery.id]


async def test_a_possible_duplicate_goes_alone_and_is_recorded_before_anything_else_is_sent(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    for n in range(6):
        await post_grade(db, school.school_id, family.alice, 5, f"j-{n}")
    dead = Worker(settings, db, {ChannelName.EMAIL: RecordingChannel()}, worker_id="dead")
    claimed = await dead.claim()
    unknown = claimed[-1].delivery_id  # on the wire when its worker was killed
    assert await dead.claims.start(unknown)

    class Watching(RecordingChannel):
        """Notes, for each send, what else was in flight and whether the possible
        duplicate's "sent" was already committed."""

        def __init__(self) -> None:
            super().__init__()
            self.in_flight = 0
            self.seen: list[tuple[int, int, DeliveryStatus]] = []

        async def send(self, envelope, turn=None):  # type: ignore[no-untyped-def]
            self.in_flight += 1
            async with db.session() as session:
                status = (await session.get_one(Delivery, unknown)).status
            self.seen.append((envelope.delivery_id, self.in_flight, status))
            await asyncio.sleep(0.01)
            self.in_flight -= 1
            return await super().send(envelope)

    channel = Watching()
    other = Worker(settings, db, {ChannelName.EMAIL: channel}, worker_id="other",
                   config=WorkerConfig(concurrency=4))
    assert len(await other.claim(now=clock.now() + dt.timedelta(seconds=61))) == 6
    await other.claims.release([c.delivery_id for c in claimed])  # due again, mark kept
    async with db.transaction() as session:  # ...and its lease long gone
        await session.execute(update(Delivery).where(Delivery.id == unknown).values(
            status=DeliveryStatus.SENDING, claimed_by="dead",
            lease_until=clock.now() - dt.timedelta(seconds=61)))
    assert await other.run_once() == 6
    first, *rest = channel.seen
    assert first[:2] == (unknown, 1)  # first, with nothing else on the wire
    # Nothing else went out before its outcome was on record; the others went together.
    assert all(status is DeliveryStatus.SENT for _, _, status in rest)
    assert max(in_flight for _, in_flight, _ in rest) > 1
    by_id = {d.id: d for d in await deliveries(db)}
    assert by_id[unknown].possible_duplicates == 1
    assert sum(d.possible_duplicates for d in by_id.values()) == 1
    assert all(d.status is DeliveryStatus.SENT for d in by_id.values())


async def test_an_uncertain_failure_counts_the_next_attempt_as_a_possible_duplicate(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    from hub.notify.channel import TemporaryFailure

    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    channel.fail_next(TemporaryFailure("connection dropped during DATA", uncertain=True),
                      channel.temporary())
    worker = Worker(settings, db, {ChannelName.EMAIL: channel})
    for _ in range(3):
        await worker.run_once()
        await make_due(db)
    [delivery] = await deliveries(db)
    # The attempt after the dropped DATA may have repeated the message; the one after the
    # certain 451 did not.
    assert delivery.status is DeliveryStatus.SENT and delivery.attempts == 3
    assert delivery.possible_duplicates == 1


async def test_restarts_alone_do_not_count_attempts(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    when = clock.now()
    for n in range(10):  # claimed, then the worker is killed before the wire, ten times
        worker = Worker(settings, db, {ChannelName.EMAIL: RecordingChannel()},
                        worker_id=f"w{n}")
        when += dt.timedelta(seconds=31)
        assert len(await worker.claim(now=when)) == 1
    [delivery] = await deliveries(db)
    assert delivery.attempts == 0 and delivery.possible_duplicates == 0


async def test_a_failed_round_gives_back_the_claims_it_did_not_attempt(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(5):
        await post_grade(db, school.school_id, family.alice, 5, f"j-{n}")
    worker = Worker(settings, db, {ChannelName.EMAIL: channel},
                    config=WorkerConfig(concurrency=1))
    real_start = worker.claims.start
    calls = 0

    async def start_then_fail(delivery_id: int) -> bool:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise ConnectionError("the database went away")
        return await real_start(delivery_id)

    monkeypatch.setattr(worker.claims, "start", start_then_fail)
    with pytest.raises(ConnectionError):
        await worker.run_once()
    rows = await deliveries(db)
    assert sorted(d.status.value for d in rows) == ["pending"] * 3 + ["sent"] * 2
    assert all(d.claimed_by is None and d.attempts == 0
               for d in rows if d.status is DeliveryStatus.PENDING)
    monkeypatch.setattr(worker.claims, "start", real_start)
    assert await worker.run_once() == 3  # at once, not after a lease


async def test_heartbeat_keeps_short_leases_while_the_worker_works(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    for n in range(4):
        await post_grade(db, school.school_id, family.alice, 5, f"j-{n}")
    slow = RecordingChannel()
    slow.delay = 0.5
    worker = Worker(settings, db, {ChannelName.EMAIL: slow},
                    config=WorkerConfig(concurrency=1, lease=0.6))
    other = Worker(settings, db, {ChannelName.EMAIL: RecordingChannel()},
                   config=WorkerConfig(lease=0.6))
    task = asyncio.create_task(worker.run_once())
    await slow.wait_for(1)
    taken = []
    while not task.done():  # 2 s of sends: well past the lease of 0.6 s
        taken += await other.claim()
        await asyncio.sleep(0.05)
    assert await task == 4 and taken == [] and len(slow.sent) == 4


async def test_recording_sent_outlasts_a_database_outage(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel, monkeypatch: pytest.MonkeyPatch,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    worker = Worker(settings, db, {ChannelName.EMAIL: channel},
                    config=WorkerConfig(lease=30))
    real_write = worker.outcomes._write
    failures = 6  # more than the five tries that used to give up

    async def flaky(outcomes):  # type: ignore[no-untyped-def]
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("the database is restarting")
        return await real_write(outcomes)

    monkeypatch.setattr(worker.outcomes, "_write", flaky)
    monkeypatch.setattr(worker.outcomes._writer, "_write", flaky)
    monkeypatch.setattr("hub.notify.outcomes.asyncio.sleep", _no_wait)
    assert await worker.run_once() == 1
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.SENT and len(channel.sent) == 1


_sleep = asyncio.sleep


async def _no_wait(_seconds: float) -> None:
    await _sleep(0)


async def test_a_chat_unlinked_earlier_falls_back_to_email_too(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    from hub.notify.addresses import disable_address
    from hub.notify.channel import NotificationKind
    from hub.notify.preferences import Mode, set_mode

    async with db.transaction() as session:
        await set_address(session, family.anna.id, ChannelName.TELEGRAM, "1001")
        await set_mode(session, family.anna.id, NotificationKind.GRADES, ChannelName.EMAIL,
                       Mode.OFF)
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    async with db.transaction() as session:  # an earlier delivery's 403 unlinked the chat
        await disable_address(session, family.anna.id, ChannelName.TELEGRAM, "403: blocked")
    email, telegram = RecordingChannel(), RecordingChannel(ChannelName.TELEGRAM)
    worker = Worker(settings, db, {ChannelName.EMAIL: email, ChannelName.TELEGRAM: telegram})
    while await worker.run_once():
        pass
    assert telegram.sent == [] and [e.address for e in email.sent] == ["anna@example.test"]
    rows = await deliveries(db)
    assert sorted((d.channel.value, d.status.value) for d in rows) == [
        ("email", "sent"), ("telegram", "failed")
    ]


async def test_a_notice_made_after_the_only_chat_was_unlinked_is_shown_undelivered(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    from hub.journal.models import Grade
    from hub.notify.addresses import disable_address
    from hub.notify.channel import NotificationKind
    from hub.notify.inbox import notifications_of
    from hub.notify.preferences import Mode, set_mode
    from hub.notify.summary import delivery_summary
    from hub.school import Person

    async with db.transaction() as session:  # Nina: Telegram only, no e-mail address
        await set_address(session, family.nina.id, ChannelName.TELEGRAM, "1002")
        await set_mode(session, family.nina.id, NotificationKind.GRADES, ChannelName.EMAIL,
                       Mode.OFF)
        (await session.get_one(Person, family.nina.id)).email = None
        # An earlier delivery's 403 unlinked the chat, before this grade was posted.
        await disable_address(session, family.nina.id, ChannelName.TELEGRAM, "403: blocked")
    await post_grade(db, school.school_id, family.vera, 3, "j-1")
    telegram = RecordingChannel(ChannelName.TELEGRAM)
    worker = Worker(settings, db, {ChannelName.EMAIL: RecordingChannel(),
                                   ChannelName.TELEGRAM: telegram})
    while await worker.run_once():
        pass
    assert telegram.sent == []
    [delivery] = await deliveries(db)
    assert (delivery.person_id, delivery.channel, delivery.status) == (
        family.nina.id, ChannelName.TELEGRAM, DeliveryStatus.FAILED)
    async with db.session() as session:
        inbox, _ = await notifications_of(session, school.school_id, family.nina.id)
        grade_id = await session.scalar(select(Grade.id))
        assert grade_id is not None
        # The school sees it as undelivered; Nina still finds it in the app.
        assert await delivery_summary(session, "grade", grade_id) == {
            "delivered": 0, "waiting": 0, "failed": 1, "notified": 1}
    assert [n.title for n, _ in inbox] == ["Оценка 3 по предмету «Математика»"]


async def test_a_notice_made_after_the_chat_was_unlinked_goes_by_email_when_there_is_one(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    from hub.notify.addresses import disable_address
    from hub.notify.channel import NotificationKind
    from hub.notify.preferences import Mode, set_mode

    async with db.transaction() as session:
        await set_address(session, family.nina.id, ChannelName.TELEGRAM, "1002")
        await set_mode(session, family.nina.id, NotificationKind.GRADES, ChannelName.EMAIL,
                       Mode.OFF)
        await disable_address(session, family.nina.id, ChannelName.TELEGRAM, "403: blocked")
    await post_grade(db, school.school_id, family.vera, 3, "j-1")
    email = RecordingChannel()
    worker = Worker(settings, db, {ChannelName.EMAIL: email,
                                   ChannelName.TELEGRAM: RecordingChannel(ChannelName.TELEGRAM)})
    while await worker.run_once():
        pass
    assert [e.address for e in email.sent] == ["nina@example.test"]


async def test_workers_side_by_side_send_each_message_once(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    for n in range(60):
        await post_grade(db, school.school_id, family.alice, 2 + n % 4, f"j-{n}")
    shared = RecordingChannel()
    shared.delay = 0.002
    config = WorkerConfig(batch_size=7, concurrency=2, poll_interval=0.05)
    workers = [Worker(settings, db, {ChannelName.EMAIL: shared}, config=config)
               for _ in range(3)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    await shared.wait_for(60, within=60)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*tasks)
    ids = [e.delivery_id for e in shared.sent]
    assert len(ids) == len(set(ids)) == 60
    assert all(d.status is DeliveryStatus.SENT for d in await deliveries(db))


async def test_stopping_releases_claims_that_were_not_sent(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    for n in range(5):
        await post_grade(db, school.school_id, family.alice, 5, f"j-{n}")
    slow = RecordingChannel()
    slow.delay = 0.3
    worker = Worker(settings, db, {ChannelName.EMAIL: slow},
                    config=WorkerConfig(concurrency=1, batch_size=5))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await slow.wait_for(1)
    stop.set()
    await task
    rows = await deliveries(db)
    sent = [d for d in rows if d.status is DeliveryStatus.SENT]
    waiting = [d for d in rows if d.status is DeliveryStatus.PENDING]
    assert len(sent) == len(slow.sent) >= 1 and len(sent) + len(waiting) == 5
    assert all(d.claimed_by is None and d.attempts == 0 for d in waiting)
    # Another worker takes them at once, without waiting for a lease.
    rest = RecordingChannel()
    assert await Worker(settings, db, {ChannelName.EMAIL: rest}).run_once() == len(waiting)


async def test_delivery_summary_counts_delivered_waiting_and_failed_per_grade(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    from hub.journal.models import Grade
    from hub.notify.summary import delivery_summary

    second = await school.parent_of(family.alice, email="second@example.test")
    assert second.id
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    async with db.session() as session:
        grade_id = await session.scalar(select(Grade.id))
        assert grade_id is not None
        assert await delivery_summary(session, "grade", grade_id) == {
            "delivered": 0, "waiting": 2, "failed": 0, "notified": 2}
    channel = RecordingChannel()
    channel.fail_next(channel.permanent())
    worker = Worker(settings, db, {ChannelName.EMAIL: channel})
    while await worker.run_once():
        pass
    async with db.session() as session:
        assert await delivery_summary(session, "grade", grade_id) == {
            "delivered": 1, "waiting": 0, "failed": 1, "notified": 2}


async def test_sends_finishing_together_record_their_outcomes_in_one_write(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(12):
        await post_grade(db, school.school_id, family.alice, 5, f"j-{n}")
    worker = Worker(settings, db, {ChannelName.EMAIL: channel},
                    config=WorkerConfig(concurrency=6))
    writes: list[int] = []
    real_write = worker.outcomes._writer._write

    async def counted(outcomes):  # type: ignore[no-untyped-def]
        writes.append(len(outcomes))
        return await real_write(outcomes)

    monkeypatch.setattr(worker.outcomes._writer, "_write", counted)
    assert await worker.run_once() == 12
    assert sum(writes) == 12 and len(writes) < 12 and max(writes) > 1
    # One statement for a group, each row with its own values.
    assert all(d.status is DeliveryStatus.SENT and d.provider_id == f"email-{d.id}"
               for d in await deliveries(db))


async def test_a_recorded_outcome_moves_the_deliveries_write_stamp(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    # The outcome commits on its own, outside a session: caches of delivery state (the
    # pages that show it) must still see it change.
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    worker = Worker(settings, db, {ChannelName.EMAIL: channel})
    [claimed] = await worker.claim()
    assert await worker.claims.start(claimed.delivery_id)
    before = db.stamps.current(("deliveries",))
    await worker.outcomes.sent(claimed, "accepted-1")
    assert db.stamps.current(("deliveries",)) != before
    [delivery] = await deliveries(db)
    assert delivery.status is DeliveryStatus.SENT and delivery.provider_id == "accepted-1"


async def test_a_cancelled_delivery_is_not_counted_as_failed(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
) -> None:
    from hub.journal.models import Grade
    from hub.notify.summary import delivery_summary

    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    async with db.transaction() as session:
        await session.execute(update(Delivery).values(status=DeliveryStatus.CANCELLED))
        grade_id = await session.scalar(select(Grade.id))
        assert grade_id is not None
        summary = await delivery_summary(session, "grade", grade_id)
    assert summary["failed"] == 0 and summary["waiting"] == 0
