"""Naming people as Russians address them: «Милана Константиновна» (first name and
patronymic) in a greeting, and the grammatical gender a sentence about a child needs
(«отсутствовала», «Ученица»), told from the patronymic or, failing that, the surname.

People are kept as last, first and middle name (hub.school.Person); the hub records no
gender, so where neither name tells it the wording stays neutral.
"""

from __future__ import annotations

import enum
from typing import Protocol


class Gender(enum.StrEnum):
    FEMALE = "f"
    MALE = "m"


class Named(Protocol):
    last_name: str
    first_name: str
    middle_name: str | None


_FEMALE_PATRONYMIC = ("овна", "евна", "ична", "инична", "кызы", "гызы")
_MALE_PATRONYMIC = ("ович", "евич", "ич", "оглы", "улы", "уулу")
_FEMALE_SURNAME = ("ова", "ева", "ёва", "ина", "ына", "ская", "цкая", "ая")
_MALE_SURNAME = ("ов", "ев", "ёв", "ин", "ын", "ский", "цкий", "ой", "ый", "ий")


def gender_of(last_name: str, middle_name: str | None = None) -> Gender | None:
    """The gender the names tell, or None."""
    middle = (middle_name or "").strip().lower()
    if middle.endswith(_FEMALE_PATRONYMIC):
        return Gender.FEMALE
    if middle.endswith(_MALE_PATRONYMIC):
        return Gender.MALE
    last = last_name.strip().lower()
    if last.endswith(_FEMALE_SURNAME):
        return Gender.FEMALE
    if last.endswith(_MALE_SURNAME):
        return Gender.MALE
    return None


def person_gender(person: Named) -> Gender | None:
    return gender_of(person.last_name, person.middle_name)


def address_name(first_name: str, middle_name: str | None, last_name: str = "") -> str:
    """How a letter greets a person: «Милана Константиновна»; without a patronymic, the
    first name and the surname in that order («Милана Петрова»)."""
    if middle_name and middle_name.strip():
        return f"{first_name} {middle_name.strip()}"
    return " ".join(p for p in (first_name, last_name) if p)


def address_name_from_full(full_name: str) -> str:
    """address_name for a name written surname first («Петрова Милана Константиновна»),
    as Person.full_name writes it."""
    parts = full_name.split()
    if len(parts) >= 3:
        return address_name(parts[1], " ".join(parts[2:]))
    if len(parts) == 2:
        return address_name(parts[1], None, parts[0])
    return full_name.strip()


def gendered(gender: Gender | None, male: str, female: str, neutral: str) -> str:
    """The word for the gender, or the neutral wording when it is not known."""
    if gender is Gender.FEMALE:
        return female
    if gender is Gender.MALE:
        return male
    return neutral


def student_word(gender: Gender | None) -> str:
    return gendered(gender, "Ученик", "Ученица", "Ученик")
