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
    def codes(self, infos: list[Any]) -> str: ...
    def known(
        self, toks: list[str], frequent: dict[str, Any], cache: dict[str, Any]
    ) -> list[Any]: ...
    def read(self, raws: list[str]) -> list[Any]: ...
