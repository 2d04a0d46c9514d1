"""The journal's refusals: a batch or a CSV file with bad items. Both are hub.errors.Invalid
(422), rendered once by the error middleware; `details` points at each bad item (by its
index in the batch) or line (in the file), so a client can fix them all at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.errors import Invalid


@dataclass(frozen=True)
class ItemError:
    index: int  # position in the batch (0-based)
    field: str
    message: str


@dataclass(frozen=True)
class LineError:
    line: int  # line of the CSV file (1-based, the header is line 1)
    column: str
    message: str

    def __str__(self) -> str:
        return f"строка {self.line}: {self.column}: {self.message}"


class JournalRejected(Invalid):
    """The batch had bad items; nothing was stored."""

    def __init__(self, errors: Sequence[ItemError]) -> None:
        self.errors = list(errors)
        super().__init__(
            f"Пакет не принят: ошибок — {len(self.errors)}. Ничего не сохранено.",
            details=[{"index": e.index, "field": e.field, "message": e.message}
                     for e in self.errors],
        )


class ImportRejected(Invalid):
    """The CSV file had bad lines (or a bad header); nothing was stored."""

    def __init__(self, errors: Sequence[LineError]) -> None:
        self.errors = list(errors)
        super().__init__(
            f"Файл не принят: ошибок — {len(self.errors)}. Ничего не сохранено.",
            details=[{"line": e.line, "field": e.column, "message": e.message}
                     for e in self.errors],
        )
