"""What the school's moderators teach the detector: how often each rule was right, and which
words they keep rejecting that the detector lets through.

``precision_report`` is ``hub moderation report``; ``watched_suggestions`` proposes watched
words for an administrator to add (nothing is added by itself)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from moderation import lexicon
from moderation.decisions import Decision, decided
from moderation.detector import Detector
from moderation.frequent import frequent_words
from moderation.normalize import normalize


@dataclass(frozen=True, slots=True)
class RulePrecision:
    """How a rule fared: items it held that moderators rejected or edited (right) and
    items they approved as they were (wrong)."""

    rule: str
    right: int
    wrong: int

    @property
    def precision(self) -> float:
        return self.right / max(1, self.right + self.wrong)


@dataclass(frozen=True, slots=True)
class PrecisionReport:
    decided: int
    by_rule: tuple[RulePrecision, ...]  # worst precision first
    by_source: tuple[RulePrecision, ...]  # detector, watched, report
    reasons: tuple[tuple[str, int], ...]  # rejection reasons, most frequent first
    overall: RulePrecision


def _family(rule: str) -> str:
    """The rule without the disguise it was read through: lexicon:дура and masked:дура are
    the same word list."""
    head, _, rest = rule.partition(":")
    return f"lexicon:{rest}" if head in ("masked", "spaced") and rest else rule


def rule_precision(decisions: Iterable[Decision]) -> PrecisionReport:
    """Precision per rule and per source over decisions that speak about language."""
    by_rule: dict[str, list[int]] = {}
    by_source: dict[str, list[int]] = {}
    reasons: Counter[str] = Counter()
    total = [0, 0]
    n = 0
    for d in decisions:
        n += 1
        if d.action == "reject" and d.reason:
            reasons[d.reason] += 1
        label = d.abusive
        if label is None:
            continue
        k = 0 if label else 1
        total[k] += 1
        by_source.setdefault(d.source, [0, 0])[k] += 1
        for rule in {_family(r) for r in d.rules}:
            by_rule.setdefault(rule, [0, 0])[k] += 1

    def rows(table: dict[str, list[int]]) -> tuple[RulePrecision, ...]:
        out = [RulePrecision(k, v[0], v[1]) for k, v in table.items()]
        return tuple(sorted(out, key=lambda r: (r.precision, -r.wrong, r.rule)))

    return PrecisionReport(n, rows(by_rule), rows(by_source), tuple(reasons.most_common()),
                           RulePrecision("всего", total[0], total[1]))


async def precision_report(session: AsyncSession, school_id: int) -> PrecisionReport:
    return rule_precision(await decided(session, school_id))


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A word to consider watching: in ``rejected`` rejected items, ``approved`` approved."""

    word: str
    rejected: int
    approved: int


_COMMON_LIMIT = 1500  # the most frequent forms are never suggested (ты, это, все, ...)


def suggest_words(decisions: Iterable[Decision], detector: Detector, *,
                  min_rejected: int = 3, min_share: float = 0.8,
                  limit: int = 20) -> list[Suggestion]:
    """Words that keep turning up in items moderators reject for their language and hardly
    ever in items they approve, and that the detector does not already catch."""
    bad: Counter[str] = Counter()
    good: Counter[str] = Counter()
    for d in decisions:
        label = d.abusive
        if label is None:
            continue
        words = {w for w in normalize(d.text).text.split() if len(w) >= 3 and w.isalpha()}
        (bad if label else good).update(words)
    common = set(frequent_words()[:_COMMON_LIMIT]) | lexicon.ADDRESS_WORDS \
        | lexicon.PERSON_WORDS
    out = []
    for word, r in bad.items():
        a = good.get(word, 0)
        if r < min_rejected or r / (r + a) < min_share or word in common:
            continue
        if not detector.check(word).allowed:
            continue  # already held
        out.append(Suggestion(word, r, a))
    out.sort(key=lambda s: (-s.rejected, s.approved, s.word))
    return out[:limit]


async def watched_suggestions(session: AsyncSession, school_id: int, detector: Detector, *,
                              min_rejected: int = 3, limit: int = 20) -> list[Suggestion]:
    """``suggest_words`` over the school's decided items; pass the school's detector (with
    its watched words) so that words already watched are not proposed again."""
    return suggest_words(await decided(session, school_id), detector,
                         min_rejected=min_rejected, limit=limit)
