"""Personal data (152-ФЗ): export everything the hub holds about a person, and erase it.

Every package that stores personal data provides a source; the composition root lists them
(`hub.components.PRIVACY_SOURCES`), so an export or erasure reaches every table."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class PersonalDataSource(Protocol):
    name: str  # the section of the export: "forum", "notifications", ...

    async def export(self, session: AsyncSession, person_id: int) -> Any:
        """JSON-ready data about the person."""
        ...

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        """Remove or anonymise what identifies the person (texts others rely on may stay,
        unlinked from them)."""
        ...
