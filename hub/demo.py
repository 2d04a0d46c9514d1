"""The demo school «Школа № 57»: a dozen classes, about 300 students with their parents,
teachers, a coordinator, a moderator, an HR specialist and an administrator.

The school is generated from a fixed seed, so the plan (and the demo sign-ins) is the same
every time; loading it twice creates nothing twice. Passwords are hashed once per role and
the hash is shared, because argon2 is deliberately slow.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.models import Account
from hub.auth.secrets import hash_password
from hub.school import (
    Consent,
    ConsentPurpose,
    Enrolment,
    Guardianship,
    Person,
    Role,
    RoleGrant,
    School,
    SchoolClass,
    TeachingAssignment,
)

SCHOOL_NAME = "Школа № 57"
SCHOOL_SLUG = "school57"
CLASS_NAMES = ("1А", "2А", "3А", "4А", "5А", "5Б", "6А", "7А", "8А", "9А", "10А", "11А")
STUDENTS_PER_CLASS = 25
SEED = 57

PASSWORDS: dict[str, str] = {
    "admin": "demo-admin-57",
    "coordinator": "demo-coord-57",
    "moderator": "demo-moder-57",
    "hr": "demo-kadry-57",
    "teacher": "demo-uchitel-57",
    "parent": "demo-roditel-57",
    "student": "demo-uchenik-57",
}

SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов",
    "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв",
    "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв",
    "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров",
    "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов",
    "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов",
    "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев",
    "Фомин", "Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров",
    "Калинин", "Исаев", "Чернышёв", "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев",
    "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев", "Прохоров",
)
MALE_NAMES = (
    "Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья",
    "Кирилл", "Михаил", "Никита", "Матвей", "Роман", "Егор", "Арсений", "Иван", "Денис",
    "Евгений", "Даниил", "Тимофей", "Владислав", "Игорь", "Владимир", "Павел", "Руслан",
    "Марк", "Константин", "Тимур", "Олег", "Ярослав", "Антон", "Николай", "Глеб", "Данил",
    "Савелий", "Вадим", "Степан", "Юрий", "Богдан", "Артур",
)
FEMALE_NAMES = (
    "Анастасия", "Мария", "Анна", "Виктория", "Екатерина", "Наталья", "Марина", "Полина",
    "София", "Дарья", "Алиса", "Ксения", "Александра", "Елена", "Ольга", "Татьяна",
    "Ирина", "Юлия", "Светлана", "Вероника", "Варвара", "Алёна", "Елизавета", "Валерия",
    "Кристина", "Милана", "Ульяна", "Василиса", "Таисия", "Ева",
)
# A father's name -> (the son's, the daughter's) patronymic.
PATRONYMICS: dict[str, tuple[str, str]] = {
    "Александр": ("Александрович", "Александровна"), "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Сергей": ("Сергеевич", "Сергеевна"), "Андрей": ("Андреевич", "Андреевна"),
    "Алексей": ("Алексеевич", "Алексеевна"), "Михаил": ("Михайлович", "Михайловна"),
    "Иван": ("Иванович", "Ивановна"), "Евгений": ("Евгеньевич", "Евгеньевна"),
    "Владимир": ("Владимирович", "Владимировна"), "Павел": ("Павлович", "Павловна"),
    "Игорь": ("Игоревич", "Игоревна"), "Олег": ("Олегович", "Олеговна"),
    "Николай": ("Николаевич", "Николаевна"), "Юрий": ("Юрьевич", "Юрьевна"),
    "Роман": ("Романович", "Романовна"), "Денис": ("Денисович", "Денисовна"),
    "Константин": ("Константинович", "Константиновна"), "Антон": ("Антонович", "Антоновна"),
    "Максим": ("Максимович", "Максимовна"), "Вадим": ("Вадимович", "Вадимовна"),
}
SUBJECTS_SENIOR = ("Математика", "Русский язык", "Английский язык", "История", "Физика",
                   "Биология")

TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
     "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
    strict=True,
))


def translit(text: str) -> str:
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower())


def feminine(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    return surname


@dataclass
class PlannedPerson:
    key: str
    last_name: str
    first_name: str
    middle_name: str | None
    roles: tuple[Role, ...]
    email: str | None = None
    login: str | None = None
    password_kind: str | None = None
    class_name: str | None = None  # a student's
    teaching: list[tuple[str, str]] = field(default_factory=list)  # (class, subject)
    children: list[str] = field(default_factory=list)  # keys


@dataclass(frozen=True)
class DemoSignIn:
    who: str
    login: str
    password: str


@dataclass
class DemoPlan:
    people: list[PlannedPerson]
    sign_ins: list[DemoSignIn]


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.logins: set[str] = set()

    def adult(self, female: bool, surname: str | None = None) -> tuple[str, str, str]:
        surname = surname or self.rng.choice(SURNAMES)
        father = self.rng.choice(list(PATRONYMICS))
        if female:
            return feminine(surname), self.rng.choice(FEMALE_NAMES), PATRONYMICS[father][1]
        return surname, self.rng.choice(MALE_NAMES), PATRONYMICS[father][0]

    def login(self, last_name: str, first_name: str) -> str:
        base = f"{translit(last_name)}.{translit(first_name)}"
        login, n = base, 1
        while login in self.logins:
            n += 1
            login = f"{base}{n}"
        self.logins.add(login)
        return login


def build_plan() -> DemoPlan:
    """The demo school as data (the same every time)."""
    rng = random.Random(SEED)
    names = _Names(rng)
    for fixed in ("admin", "coordinator", "moderator", "hr"):
        names.logins.add(fixed)
    people: list[PlannedPerson] = []

    def adult(key: str, roles: tuple[Role, ...], kind: str, female: bool,
              surname: str | None = None, login: str | None = None) -> PlannedPerson:
        last, first, middle = names.adult(female, surname)
        person_login = login or names.login(last, first)
        person = PlannedPerson(
            key, last, first, middle, roles, email=f"{person_login}@example.org",
            login=person_login, password_kind=kind,
        )
        people.append(person)
        return person

    admin = adult("admin", (Role.SYSADMIN,), "admin", False, login="admin")
    coordinator = adult("coordinator", (Role.COORDINATOR,), "coordinator", True,
                        login="coordinator")
    moderator = adult("moderator", (Role.MODERATOR,), "moderator", False, login="moderator")
    adult("hr", (Role.HR,), "hr", True, login="hr")

    class_teachers: dict[str, PlannedPerson] = {}
    for name in CLASS_NAMES:
        teacher = adult(f"teacher-{name}", (Role.TEACHER,), "teacher", rng.random() < 0.8)
        subject = "Начальные классы" if int(name[:-1]) <= 4 else rng.choice(SUBJECTS_SENIOR)
        teacher.teaching.append((name, subject))
        class_teachers[name] = teacher
    senior = [n for n in CLASS_NAMES if int(n[:-1]) >= 5]
    for subject in SUBJECTS_SENIOR:
        teacher = adult(f"teacher-{subject}", (Role.TEACHER,), "teacher", rng.random() < 0.7)
        for name in senior:
            if (name, subject) not in class_teachers[name].teaching:
                teacher.teaching.append((name, subject))
    therapist = adult("speech-therapist", (Role.SPEECH_THERAPIST,), "teacher", True)
    therapist.teaching += [(n, "Логопедия") for n in CLASS_NAMES[:4]]
    psychologist = adult("psychologist", (Role.PSYCHOLOGIST,), "teacher", True)
    psychologist.teaching += [(n, "Психология") for n in CLASS_NAMES]

    first_student: dict[str, PlannedPerson] = {}
    first_mother: dict[str, PlannedPerson] = {}
    for name in CLASS_NAMES:
        older = int(name[:-1]) >= 5
        for index in range(STUDENTS_PER_CLASS):
            surname = rng.choice(SURNAMES)
            girl = rng.random() < 0.5
            father_name = rng.choice(list(PATRONYMICS))
            student = PlannedPerson(
                f"student-{name}-{index}",
                feminine(surname) if girl else surname,
                rng.choice(FEMALE_NAMES if girl else MALE_NAMES),
                PATRONYMICS[father_name][1 if girl else 0],
                (Role.STUDENT,),
                class_name=name,
            )
            if older:
                student.login = names.login(student.last_name, student.first_name)
                student.password_kind = "student"
            people.append(student)
            mother = adult(f"mother-{name}-{index}", (Role.PARENT,), "parent", True, surname)
            mother.children.append(student.key)
            if rng.random() < 0.35:
                father_last = surname
                father = PlannedPerson(
                    f"father-{name}-{index}", father_last, father_name,
                    PATRONYMICS[rng.choice(list(PATRONYMICS))][0], (Role.PARENT,),
                )
                father.login = names.login(father.last_name, father.first_name)
                father.email = f"{father.login}@example.org"
                father.password_kind = "parent"
                father.children.append(student.key)
                people.append(father)
            first_student.setdefault(name, student)
            first_mother.setdefault(name, mother)

    def sign_in(who: str, person: PlannedPerson) -> DemoSignIn:
        assert person.login is not None and person.password_kind is not None
        return DemoSignIn(who, person.login, PASSWORDS[person.password_kind])

    sign_ins = [
        sign_in("системный администратор", admin),
        sign_in("координатор", coordinator),
        sign_in("модератор", moderator),
        sign_in("классный руководитель 5А", class_teachers["5А"]),
        sign_in("родитель ученика 5А", first_mother["5А"]),
        sign_in("родитель ученика 5Б", first_mother["5Б"]),
        sign_in("ученик 5А", first_student["5А"]),
    ]
    return DemoPlan(people, sign_ins)


@dataclass(frozen=True)
class DemoResult:
    created: bool
    school_id: int
    people: int
    sign_ins: list[DemoSignIn]


async def load_demo(session: AsyncSession) -> DemoResult:
    """Create the demo school unless it exists (then nothing changes)."""
    plan = build_plan()
    existing = await session.scalar(select(School).where(School.slug == SCHOOL_SLUG))
    if existing is not None:
        return DemoResult(False, existing.id, 0, plan.sign_ins)
    logins = [p.login for p in plan.people if p.login]
    taken = set(await session.scalars(select(Account.login).where(Account.login.in_(logins))))
    if taken:
        raise ValueError("логины демо-школы уже заняты: " + ", ".join(sorted(taken)[:5]))

    school = School(name=SCHOOL_NAME, slug=SCHOOL_SLUG)
    session.add(school)
    await session.flush()
    classes = {name: SchoolClass(school_id=school.id, name=name) for name in CLASS_NAMES}
    session.add_all(classes.values())
    rows: dict[str, Person] = {}
    for planned in plan.people:
        rows[planned.key] = Person(
            school_id=school.id, last_name=planned.last_name, first_name=planned.first_name,
            middle_name=planned.middle_name, email=planned.email,
            external_id=f"demo-{planned.key}",
            role_grants=[RoleGrant(role=role) for role in planned.roles],
        )
    session.add_all(rows.values())
    await session.flush()

    hashes = {kind: hash_password(password) for kind, password in PASSWORDS.items()}
    for planned in plan.people:
        person = rows[planned.key]
        if planned.class_name:
            session.add(Enrolment(student_id=person.id, class_id=classes[planned.class_name].id))
        for class_name, subject in planned.teaching:
            session.add(TeachingAssignment(
                teacher_id=person.id, class_id=classes[class_name].id, subject=subject
            ))
        for child_key in planned.children:
            child = rows[child_key]
            session.add(Guardianship(parent_id=person.id, child_id=child.id))
            if child_key.startswith("student") and planned.key.startswith("mother"):
                session.add(Consent(person_id=child.id, purpose=ConsentPurpose.PROCESSING,
                                    given_by_id=person.id))
        if Role.PARENT in planned.roles or Role.STUDENT not in planned.roles:
            for purpose in ConsentPurpose:
                session.add(Consent(person_id=person.id, purpose=purpose,
                                    given_by_id=person.id))
        if planned.login and planned.password_kind:
            session.add(Account(
                person_id=person.id, login=planned.login,
                password_hash=hashes[planned.password_kind], must_change_password=False,
            ))
    await session.flush()
    return DemoResult(True, school.id, len(rows), plan.sign_ins)
