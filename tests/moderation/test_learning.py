"""Learning from the school's moderators: precision per rule on decided items, watched-word
suggestions, and a retrained model installed only when it is better."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.db import Database
from moderation import Detector, WatchedWord, learning, queue, retrain
from moderation.decisions import Decision, decided
from moderation.model import ToxicityModel, installed_path, load
from tests.moderation.conftest import Cast, held
from tests.moderation.fake_target import FakeTarget
from tests.support.school import SchoolBuilder

SHARED = Path(os.environ.get("HUB_SHARED_DATA",
                             Path(__file__).parents[3] / "shared" / "data"))


async def _decide(db: Database, school_id: int, item_id: int, moderator_id: int,
                  reject: str | None) -> None:
    async with db.transaction() as session:
        if reject is None:
            await queue.approve(session, school_id=school_id, item_id=item_id,
                                moderator_id=moderator_id)
        else:
            await queue.reject(session, school_id=school_id, item_id=item_id,
                               moderator_id=moderator_id, reason=reject)


async def _reported(db: Database, notes: FakeTarget, school_id: int, cast: Cast,
                    text: str) -> int:
    note_id = notes.add(school_id, cast.parent.id, text, state="published")
    async with db.transaction() as session:
        item = await queue.report(session, school_id=school_id, kind="note",
                                  target_id=note_id, reporter_id=cast.parent2.id,
                                  reason="Грубит")
    return item.id


async def test_report_gives_precision_per_rule_from_decisions(
    db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    sid, mod = school.school_id, cast.moderator.id
    for text, verdict in (("ты тупой, это все знают", "Оскорбление участников"),
                          ("вы все тупые", "Оскорбление участников"),
                          ("ты тупой как пробка", None),  # the moderator let it pass
                          ("какого хрена опять отменили", "Грубость и неуважительный тон"),
                          ("ну ты и дурак", "Не по теме раздела")):
        item_id = await held(db, notes, sid, cast.parent.id, text)
        await _decide(db, sid, item_id, mod, verdict)
    async with db.session() as session:
        report = await learning.precision_report(session, sid)
        decisions = await decided(session, sid)
    assert report.decided == 5
    assert {d.text for d in decisions} >= {"ты тупой, это все знают", "вы все тупые"}
    rules = {r.rule: r for r in report.by_rule}
    assert rules["lexicon:тупой"].right == 2 and rules["lexicon:тупой"].wrong == 1
    assert rules["lexicon:хрен"].precision == 1.0
    assert "lexicon:дура" not in rules  # rejected as off-topic: says nothing about words
    assert report.overall.right == 3 and report.overall.wrong == 1
    assert dict(report.reasons)["Оскорбление участников"] == 2
    assert report.by_rule[0].rule == "lexicon:тупой"  # the worst rule comes first


async def test_words_moderators_keep_rejecting_are_suggested_for_watching(
    db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    sid, mod = school.school_id, cast.moderator.id
    for text in ("опять этот шмурдяк пишет в чат", "шмурдяк он и есть шмурдяк",
                 "кто пустил сюда этого шмурдяка? шмурдяк", "ну и шмурдяк же ты"):
        await _decide(db, sid, await _reported(db, notes, sid, cast, text), mod,
                      "Оскорбление участников")
    for text in ("спасибо за экскурсию, было здорово", "экскурсия понравилась детям"):
        await _decide(db, sid, await _reported(db, notes, sid, cast, text), mod, None)
    async with db.session() as session:
        words = await learning.watched_suggestions(session, sid, Detector())
    assert [s.word for s in words][:1] == ["шмурдяк"]
    assert words[0].rejected == 4 and words[0].approved == 0
    assert "экскурсия" not in {s.word for s in words}
    # Already watched: not proposed again.
    watched = Detector().rebuild(watched=[WatchedWord("шмурдяк")])
    async with db.session() as session:
        words = await learning.watched_suggestions(session, sid, watched)
    assert "шмурдяк" not in {s.word for s in words}


async def test_retrain_needs_enough_decisions(
    db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast, tmp_path: Path
) -> None:
    sid = school.school_id
    item_id = await held(db, notes, sid, cast.parent.id, "ты тупой")
    await _decide(db, sid, item_id, cast.moderator.id, "Оскорбление участников")
    async with db.session() as session:
        result = await retrain.retrain(session, sid, data=tmp_path, data_dir=tmp_path)
    assert result.installed is None and result.before is None
    assert "нужно не меньше" in result.message
    assert not installed_path(tmp_path).exists()


def _small_shipped(tmp_path: Path, rows: int = 300) -> Path:
    src = SHARED / "ru_detox_train.tsv"
    if not src.exists():
        pytest.skip("shared training data not found")
    pytest.importorskip("sklearn")
    lines = src.read_text(encoding="utf-8").splitlines()[: rows + 1]
    data = tmp_path / "data"
    data.mkdir()
    (data / "ru_detox_train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def _school_decisions() -> list[Decision]:
    """The school's own slang the shipped data never saw, rejected again and again, and
    ordinary messages approved."""
    out = []
    for i in range(60):
        if i % 2:
            text = f"слышь ты кукарямба бубылдовая, опять {i} раз лезешь со своим мнением"
            out.append(Decision(i + 1, text, "reject", "Оскорбление участников", (), "report"))
        else:
            text = f"коллеги, напоминаю про собрание в кабинете {i} после уроков, приходите"
            out.append(Decision(i + 1, text, "approve", None, ("model",), "detector"))
    return out


def test_retrain_installs_a_model_that_is_better_on_held_back_decisions(tmp_path: Path) -> None:
    data = _small_shipped(tmp_path)
    weak = ToxicityModel({}, 0.0, 0.99, "a model that knows nothing")
    result = retrain.retrain_on(_school_decisions(), data=data, data_dir=tmp_path / "var",
                                current=weak)
    assert result.held_back > 0 and result.trained_on > result.held_back
    assert result.before is not None and result.after is not None
    assert result.after.f1 > result.before.f1
    assert result.installed == installed_path(tmp_path / "var")
    assert load(result.installed).source.endswith("school decisions")


def test_retrain_keeps_the_model_when_the_new_one_is_not_better(tmp_path: Path) -> None:
    data = _small_shipped(tmp_path)
    # Held-back decisions the lexicon already gets right: nothing to gain.
    decisions = [Decision(i + 1, "ты тупой" if i % 2 else "спасибо за урок",
                          "reject" if i % 2 else "approve", None, (), "detector")
                 for i in range(40)]
    result = retrain.retrain_on(decisions, data=data, data_dir=tmp_path / "var")
    assert result.before is not None and result.before.f1 == 1.0
    assert result.installed is None
    assert not installed_path(tmp_path / "var").exists()
    assert not list((tmp_path / "var" / "moderation").glob("*.npz"))  # no temporary left


def test_commands_parse_and_the_report_reads_well() -> None:
    import argparse

    from moderation import commands

    parser = argparse.ArgumentParser(prog="hub")
    commands.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["moderation", "retrain", "--school", "s1", "--data", "/x"])
    assert args.func is commands.cmd_retrain and args.school == "s1" and str(args.data) == "/x"
    args = parser.parse_args(["moderation", "report"])
    assert args.func is commands.cmd_report
    report = learning.rule_precision(_school_decisions()[:6])
    text = commands.format_report(report, [learning.Suggestion("шмурдяк", 4, 0)])
    assert "шмурдяк" in text and "model" in text and "Решений модераторов: 6" in text


def test_start_up_takes_the_installed_model_and_the_rude_setting(tmp_path: Path) -> None:
    import moderation
    from moderation import model as model_mod

    before_model, before_detector = model_mod._cached, moderation.default_detector()
    shipped = model_mod.default_model()
    assert shipped is not None
    target = installed_path(tmp_path)
    target.parent.mkdir(parents=True)
    model_mod.save(target, dict(shipped.weights), shipped.bias, shipped.threshold,
                   "school model", shipped.weak_threshold, shipped.orders)
    try:
        det = moderation.configure_detector(data_dir=tmp_path, rude_unless_aimed=True)
        assert det.model is not None and det.model.source == "school model"
        assert moderation.default_detector() is det and det.rude_unless_aimed
        assert moderation.check("хрен знает, когда ремонт").allowed
    finally:
        model_mod._cached = before_model
        moderation.set_default_detector(before_detector)
