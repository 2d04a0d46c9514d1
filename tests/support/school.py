"""Building a small school for tests: people with roles, classes, guardianships, accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.auth import accounts
from hub.auth.access import Principal, load_principal
from hub.db import Database
from hub.school import (
    ConsentPurpose,
    Person,
    Role,
    SchoolClass,
    add_guardianship,
    assign_teaching,
    create_person,
    create_school,
    enrol,
    get_or_create_class,
    record_consent,
)

PASSWORD = "correct horse battery"


@dataclass
class SchoolBuilder:
    db: Database
    school_id: int = 0
    classes: dict[str, SchoolClass] = field(default_factory=dict)
    _counter: int = 0

    async def start(self, name: str = "Школа № 1", slug: str = "school1") -> SchoolBuilder:
        async with self.db.transaction() as session:
            self.school_id = (await create_school(session, name, slug)).id
        return self

    async def school_class(self, name: str) -> SchoolClass:
        if name not in self.classes:
            async with self.db.transaction() as session:
                self.classes[name] = await get_or_create_class(session, self.school_id, name)
        return self.classes[name]

    async def person(
        self,
        *roles: Role,
        login: str | None = None,
        last_name: str = "Иванов",
        first_name: str = "Иван",
        email: str | None = None,
        consent: bool = True,
        password: str = PASSWORD,
    ) -> Person:
        """A person with these roles and, when `login` is given, an account with `password`."""
        self._counter += 1
        async with self.db.transaction() as session:
            person = await create_person(
                session, self.school_id, last_name=last_name, first_name=first_name,
                email=email or f"person{self._counter}@example.test", roles=roles,
            )
            if consent:
                await record_consent(session, person, ConsentPurpose.PROCESSING)
                await record_consent(session, person, ConsentPurpose.NOTIFICATIONS)
            if login:
                issued = await accounts.issue_account(session, person, login, with_password=True)
                await accounts.set_password(session, issued.account, password)
                issued.account.must_change_password = False
        return person

    async def student(self, class_name: str, **kwargs: object) -> Person:
        student = await self.person(Role.STUDENT, **kwargs)  # type: ignore[arg-type]
        school_class = await self.school_class(class_name)
        async with self.db.transaction() as session:
            await enrol(session, await session.get_one(Person, student.id), school_class)
        return student

    async def parent_of(self, *children: Person, **kwargs: object) -> Person:
        parent = await self.person(Role.PARENT, **kwargs)  # type: ignore[arg-type]
        async with self.db.transaction() as session:
            for child in children:
                await add_guardianship(
                    session, await session.get_one(Person, parent.id),
                    await session.get_one(Person, child.id),
                )
        return parent

    async def teacher_of(
        self, *class_names: str, subject: str = "Математика", **kwargs: object
    ) -> Person:
        teacher = await self.person(Role.TEACHER, **kwargs)  # type: ignore[arg-type]
        for name in class_names:
            school_class = await self.school_class(name)
            async with self.db.transaction() as session:
                await assign_teaching(
                    session, await session.get_one(Person, teacher.id), school_class, subject
                )
        return teacher

    async def principal(self, person: Person) -> Principal:
        async with self.db.session() as session:
            return await load_principal(session, await session.get_one(Person, person.id))
