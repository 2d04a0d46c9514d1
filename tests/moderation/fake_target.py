"""A test double of a moderated thing (the forum's real targets live in forum/): messages
kept in memory, with the state the queue's calls leave them in."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from moderation.targets import TargetView


@dataclass
class Note:
    school_id: int
    author_id: int | None
    title: str
    text: str
    state: str = "held"  # held | published | rejected | hidden
    reason: str = ""
    history: list[str] = field(default_factory=list)


class FakeTarget:
    kind = "note"

    def __init__(self) -> None:
        self.notes: dict[int, Note] = {}

    def add(self, school_id: int, author_id: int | None, text: str, *, title: str = "",
            state: str = "held") -> int:
        note_id = len(self.notes) + 1
        self.notes[note_id] = Note(school_id, author_id, title, text, state)
        return note_id

    async def view(self, session: AsyncSession, target_id: int) -> TargetView | None:
        note = self.notes.get(target_id)
        if note is None:
            return None
        return TargetView(
            kind=self.kind, target_id=target_id, school_id=note.school_id,
            author_id=note.author_id, title=note.title, text=note.text,
            where=f"Заметки › № {target_id}", url=f"/notes/{target_id}", class_id=None,
            section="forum:7" if target_id % 2 else "board",
        )

    async def publish(self, session: AsyncSession, target_id: int, *, title: str | None = None,
                      text: str | None = None) -> None:
        note = self.notes[target_id]
        note.history.append(note.state)
        if title is not None:
            note.title = title
        if text is not None:
            note.text = text.strip()
        note.state = "published"

    async def reject(self, session: AsyncSession, target_id: int, reason: str) -> None:
        note = self.notes[target_id]
        note.history.append(note.state)
        note.state, note.reason = "rejected", reason

    async def hide(self, session: AsyncSession, target_id: int) -> None:
        note = self.notes[target_id]
        note.history.append(note.state)
        note.state = "hidden"

    async def restore(self, session: AsyncSession, target_id: int) -> None:
        note = self.notes[target_id]
        note.state = note.history.pop() if note.history else "held"
        note.reason = ""
