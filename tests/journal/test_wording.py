"""Grade and attendance notices as parents should read them: the child's gender where the
names tell it, capitalised subjects, the correction's old and new value, the teacher and
the class, and a link to that very record."""

from __future__ import annotations

import datetime as dt

from hub.journal.models import Attendance, AttendanceStatus, Grade
from hub.journal.notifications import (
    About,
    attendance_message,
    attendance_title,
    grade_message,
    grade_title,
)
from hub.names import Gender, gender_of, student_word

DAY = dt.date(2026, 3, 2)


def test_gender_from_patronymic_or_surname() -> None:
    assert gender_of("Петрова", "Константиновна") is Gender.FEMALE
    assert gender_of("Ким", "Сергеевич") is Gender.MALE
    assert gender_of("Смирнова") is Gender.FEMALE
    assert gender_of("Смирнов") is Gender.MALE
    assert gender_of("Ким") is None
    assert student_word(Gender.FEMALE) == "Ученица"


def test_attendance_in_the_childs_gender_never_with_a_bracket() -> None:
    mark = Attendance(id=7, lesson_date=DAY, status=AttendanceStatus.ABSENT,
                      subject="математика")
    assert attendance_title(mark, gender=Gender.FEMALE) == (
        "Отсутствовала на уроке «Математика» 02.03.2026")
    assert attendance_title(mark, gender=Gender.MALE).startswith("Отсутствовал на уроке")
    unknown = attendance_title(mark)
    assert unknown.startswith("Отсутствие на уроке") and "(а)" not in unknown


def test_subjects_start_with_a_capital_letter() -> None:
    grade = Grade(id=1, subject="русский язык", lesson_date=DAY, value=4)
    assert grade_title(grade) == "Оценка 4 по предмету «Русский язык»"


def test_correction_says_old_and_new_value() -> None:
    grade = Grade(id=1, subject="Математика", lesson_date=DAY, value=5, previous_value=4)
    assert grade_title(grade, corrected=True).startswith("Исправлена оценка: 4 → 5")
    assert "новая оценка" not in grade_title(grade, corrected=True)


def test_notices_name_teacher_and_class_and_link_to_the_record() -> None:
    about = About(gender=Gender.FEMALE, teacher="Учителева Мария Ивановна", class_name="5А")
    grade = Grade(id=11, subject="Математика", lesson_date=DAY, value=5)
    message = grade_message(grade, False, about)
    assert "Учитель: Учителева Мария Ивановна" in message.body
    assert "Класс: 5А" in message.body
    assert message.url == "/children#grade-11"
    mark = Attendance(id=12, lesson_date=DAY, status=AttendanceStatus.LATE, subject="Химия")
    message = attendance_message(mark, False, about)
    assert message.title.startswith("Опоздала на уроке «Химия»")
    assert "Учитель: Учителева Мария Ивановна" in message.body and "Класс: 5А" in message.body
    assert message.url == "/children#attendance-12"
