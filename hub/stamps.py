"""Write stamps per table: what lets a short cache say "nothing I read has changed".

Every committed session that wrote to a table bumps that table's stamp (hub.db watches the
sessions). A cache remembers the stamps of the tables it read when it filled an entry and
drops the entry as soon as one of them moves, so the identity of a signed-in person or a
nav badge can be served from memory and still see a revoked role, a deactivated account or
a new notification on the very next request.

In one process the stamps are counters. With a folder (`hub serve --workers N`, a separate
`hub worker` or a CLI command on the same machine) each table's stamp is also the
modification time of a file there, which every process sees: reading it is one `stat`
system call, not a database round trip. Processes on other machines share nothing here:
a district with several web hosts caches for at most the caches' own age limit.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

Stamp = tuple[int, ...]

log = logging.getLogger(__name__)


class TableStamps:
    """A version per table name, bumped after a commit that wrote to it."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._local: dict[str, int] = {}
        self._paths: dict[str, str] = {}  # table -> its file, made once: read on every request
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a read-only data folder: this process only
                log.warning("write stamps kept in this process only: %s", exc)
                self.folder = None

    def bump(self, tables: Iterable[str]) -> None:
        for table in tables:
            self._local[table] = self._local.get(table, 0) + 1
            if self.folder is not None:
                try:
                    self._touch(self.folder / table)
                except OSError as exc:  # the commit stands; caches age out (MAX_AGE)
                    log.warning("cannot bump the write stamp of %s: %s", table, exc)

    def current(self, tables: tuple[str, ...]) -> Stamp:
        """The tables' versions now; read it *before* reading the data it guards."""
        if self.folder is None:
            return tuple(self._local.get(table, 0) for table in tables)
        paths = self._paths
        stamps = []
        for table in tables:
            path = paths.get(table)
            if path is None:
                path = paths[table] = os.fspath(self.folder / table)
            stamps.append(self._file_stamp(path))
        return tuple(stamps)

    @staticmethod
    def _touch(path: Path) -> None:
        # An explicit nanosecond time: the kernel's own clock for mtimes ticks in
        # milliseconds, and two bumps in one tick would look like one.
        try:
            previous = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            path.touch()
            previous = 0
        stamp = max(time.time_ns(), previous + 1)
        os.utime(path, ns=(stamp, stamp))

    @staticmethod
    def _file_stamp(path: str) -> int:
        try:
            return os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return 0
