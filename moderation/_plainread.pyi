from collections.abc import Callable, Iterable, Iterator
from typing import Any

class PlainReader:
    def __init__(
        self,
        model: Any,
        root_iter: Callable[[str], Iterator[tuple[int, Any]]],
        info_class: type,
        *,
        address_words: Iterable[str],
        short_words: Iterable[str],
        root_edges: Iterable[str],
        max_word: int,
    ) -> None: ...
    def totals(self, infos: list[Any]) -> tuple[float, int]: ...
    def read(self, raws: list[str]) -> list[Any]: ...
