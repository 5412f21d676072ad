"""People CSV import: a valid file upserts by email; a file with any bad row is refused whole, naming every bad line."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.container import Container
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.errors import ErrorCode, ToolError
from tools.people.importer import ImportReport, import_people, import_people_csv, parse_people_csv
from tools.people.models import Employee, Role

HEADER = "email,name,slack_user_id,manager_email,department,roles,country,start_date,annual_leave_days"

# Carol's manager (Dave) comes later in the file: managers are linked after every row exists.
DIRECTORY = [
    "Ada.Boss@Example.com,Ada Boss,U001,,Leadership,manager;admin,US,2020-01-06,30",
    "bob.hr@example.com,Bob Hr,U002,ada.boss@example.com,People,hr,GB,2021-03-01,",
    "carol@example.com,Carol Dev,,dave.lead@example.com,Engineering,,DE,2024-02-01,27.5",
    "dave.lead@example.com,Dave Lead,U004,ada.boss@example.com,Engineering, Manager ; IT ,us,,",
]


def people_csv(*rows: str, header: str = HEADER) -> str:
    """Return CSV text: the header, then one line per row."""
    return "\n".join((header, *rows)) + "\n"


def import_csv(container: Container, text: str) -> ImportReport:
    """Import a people CSV in one transaction, as `backoffice people import` does."""
    with transaction(container.session_factory) as session:
        return import_people_csv(session, text=text)


def directory(container: Container) -> dict[str, dict[str, Any]]:
    """Return every employee's stored fields by email, managers as emails."""
    with transaction(container.session_factory) as session:
        people = list(session.scalars(select(Employee).order_by(Employee.email)))
        emails = {person.id: person.email for person in people}
        return {
            person.email: {
                "id": person.id, "name": person.name, "slack_user_id": person.slack_user_id, "manager": emails.get(person.manager_id or 0),
                "department": person.department, "roles": person.roles, "country": person.country, "timezone": person.timezone,
                "start_date": person.start_date, "annual_leave_days": person.annual_leave_days, "active": person.active,
            }
            for person in people
        }


def audit_actions(container: Container) -> list[tuple[str, str]]:
    """Return (action, email) for every audit record about people, oldest first."""
    with transaction(container.session_factory) as session:
        records = session.scalars(select(AuditRecord).where(AuditRecord.action.like("people.%")).order_by(AuditRecord.id))
        return [(record.action, record.details["email"]) for record in records]


def audit_count(container: Container) -> int:
    """Return the number of audit records."""
    with transaction(container.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def refused(container: Container, text: str) -> ToolError:
    """Import a file that must be refused; return the refusal."""
    with pytest.raises(ToolError) as caught:
        import_csv(container, text)
    assert caught.value.code is ErrorCode.INVALID_INPUT
    return caught.value


def named_lines(message: str) -> set[int]:
    """Return the line numbers a refusal lists as bad (each problem starts with "line N:")."""
    return {int(number) for number in re.findall(r"^line (\d+):", message, flags=re.MULTILINE)}


def test_a_valid_file_creates_everyone_and_links_managers(container: Container) -> None:
    report = import_csv(container, people_csv(*DIRECTORY))

    assert report == ImportReport(created=4, updated=0, unchanged=0)
    people = directory(container)
    assert sorted(people) == ["ada.boss@example.com", "bob.hr@example.com", "carol@example.com", "dave.lead@example.com"]
    ada, bob, carol, dave = (people[email] for email in sorted(people))
    assert ada["manager"] is None
    assert bob["manager"] == "ada.boss@example.com"
    assert carol["manager"] == "dave.lead@example.com"
    assert dave["manager"] == "ada.boss@example.com"
    assert ada["roles"] == {Role.EMPLOYEE, Role.MANAGER, Role.ADMIN}
    assert bob["roles"] == {Role.EMPLOYEE, Role.HR}
    assert carol["roles"] == {Role.EMPLOYEE}
    assert dave["roles"] == {Role.EMPLOYEE, Role.MANAGER, Role.IT}  # " Manager ; IT " is trimmed and lower-cased
    assert (ada["name"], ada["slack_user_id"], ada["department"]) == ("Ada Boss", "U001", "Leadership")
    assert (carol["slack_user_id"], carol["country"], dave["country"], bob["country"]) == (None, "DE", "US", "GB")
    assert ada["start_date"] == date(2020, 1, 6)
    assert dave["start_date"] is None
    assert ada["annual_leave_days"] == Decimal("30")
    assert carol["annual_leave_days"] == Decimal("27.5")
    assert bob["annual_leave_days"] is None
    assert all(person["active"] for person in people.values())
    assert sorted(audit_actions(container)) == [("people.created", email) for email in sorted(people)]


def test_reimport_upserts_by_email_and_reports_unchanged_rows(container: Container) -> None:
    import_csv(container, people_csv(*DIRECTORY))
    before = directory(container)
    audit_before = audit_count(container)

    changed = [
        DIRECTORY[0],  # Ada: unchanged
        "BOB.HR@example.com,Bob Hr,U002,ada.boss@example.com,People Ops,hr;finance,GB,2021-03-01,",  # department and roles
        "carol@example.com,Carol Dev,,ada.boss@example.com,Engineering,,DE,2024-02-01,27.5",  # new manager
        DIRECTORY[3],  # Dave: unchanged
        "erin@example.com,Erin New,U005,carol@example.com,Engineering,,FR,2026-11-02,25",  # new, reports to Carol
    ]
    report = import_csv(container, people_csv(*changed))

    assert report == ImportReport(created=1, updated=2, unchanged=2)
    after = directory(container)
    assert len(after) == 5
    for email in before:
        assert after[email]["id"] == before[email]["id"], "an upsert keeps the same row"
    assert after["bob.hr@example.com"]["department"] == "People Ops"
    assert after["bob.hr@example.com"]["roles"] == {Role.EMPLOYEE, Role.HR, Role.FINANCE}
    assert after["carol@example.com"]["manager"] == "ada.boss@example.com"
    assert after["erin@example.com"]["manager"] == "carol@example.com"
    assert after["ada.boss@example.com"] == before["ada.boss@example.com"]
    assert after["dave.lead@example.com"] == before["dave.lead@example.com"]
    assert sorted(audit_actions(container)[-3:]) == [
        ("people.created", "erin@example.com"), ("people.updated", "bob.hr@example.com"), ("people.updated", "carol@example.com"),
    ]
    assert audit_count(container) == audit_before + 3


def test_importing_the_same_file_twice_changes_nothing(container: Container) -> None:
    import_csv(container, people_csv(*DIRECTORY))
    before, audit_before = directory(container), audit_count(container)

    assert import_csv(container, people_csv(*DIRECTORY)) == ImportReport(created=0, updated=0, unchanged=4)
    assert directory(container) == before
    assert audit_count(container) == audit_before


def test_a_manager_already_in_the_directory_need_not_be_in_the_file(container: Container) -> None:
    import_csv(container, people_csv(*DIRECTORY))
    report = import_csv(container, people_csv("frank@example.com,Frank Ops,,dave.lead@example.com,Ops,,US,,"))
    assert report == ImportReport(created=1, updated=0, unchanged=0)
    assert directory(container)["frank@example.com"]["manager"] == "dave.lead@example.com"


BAD_ROWS = {
    3: "not-an-email,Bad Email,,ada.boss@example.com,Ops,,US,,",
    4: "wizard@example.com,Wiz Ard,,ada.boss@example.com,Ops,wizard,US,,",
    5: "nowhere@example.com,No Where,,ada.boss@example.com,Ops,,ZZ,,",
    6: "baddate@example.com,Bad Date,,ada.boss@example.com,Ops,,US,2024-13-45,",
    7: "baddays@example.com,Bad Days,,ada.boss@example.com,Ops,,US,,lots",
    8: "gina@example.com,Gina Again,,ada.boss@example.com,Ops,,US,,",  # duplicate of line 2
    9: "orphan@example.com,Orphan,,ghost@example.com,Ops,,US,,",
    10: "narcissus@example.com,Narcissus,,narcissus@example.com,Ops,,US,,",
    11: "loop.a@example.com,Loop A,,loop.b@example.com,Ops,,US,,",
    12: "loop.b@example.com,Loop B,,loop.a@example.com,Ops,,US,,",
}
GOOD_ROW = "gina@example.com,Gina Good,,ada.boss@example.com,Ops,,US,,"  # line 2


def test_a_file_with_bad_rows_is_refused_whole_naming_every_bad_line(container: Container) -> None:
    import_csv(container, people_csv(*DIRECTORY))
    before, audit_before = directory(container), audit_count(container)
    # A good row that would change Bob proves that nothing at all is applied.
    bob_changed = "bob.hr@example.com,Bob Hr,U002,ada.boss@example.com,Moved Elsewhere,hr,GB,2021-03-01,"
    text = people_csv(GOOD_ROW, *BAD_ROWS.values(), bob_changed)

    error = refused(container, text)

    assert named_lines(error.message) == set(BAD_ROWS), error.message
    message = error.message.lower()
    for fragment in ("nothing was imported", "not-an-email", "wizard", "zz", "2024-13-45", "lots", "line 2", "ghost@example.com",
                     "own manager", "loop"):
        assert fragment in message, f"{fragment!r} not in {error.message!r}"
    assert directory(container) == before
    assert audit_count(container) == audit_before


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        pytest.param("not-an-email,Bad Email,,,Ops,,US,,", "not an email address", id="bad-email"),
        pytest.param("x@example.com,X,,,Ops,employee;wizard,US,,", "unknown role 'wizard'", id="unknown-role"),
        pytest.param("x@example.com,X,,,Ops,,ZZ,,", "unknown country 'zz'", id="unknown-country"),
        pytest.param("x@example.com,X,,,Ops,,US,27/11/2026,", "start_date '27/11/2026'", id="bad-date"),
        pytest.param("x@example.com,X,,,Ops,,US,,lots", "annual_leave_days 'lots'", id="days-not-a-number"),
        pytest.param("x@example.com,X,,,Ops,,US,,400", "outside 0-366", id="days-out-of-range"),
        pytest.param("x@example.com,,,,Ops,,US,,", "name is empty", id="no-name"),
        pytest.param("x@example.com,X,,ghost@example.com,Ops,,US,,", "ghost@example.com", id="unknown-manager"),
        pytest.param("x@example.com,X,,X@Example.com,Ops,,US,,", "own manager", id="self-manager"),
        pytest.param("x@example.com,X,,,Ops,,US,,,stray,cells", "more cells than the header", id="misaligned-row"),
        pytest.param("x@example.com,X,,,Ops", "missing: roles, country, start_date, annual_leave_days", id="short-row"),
    ],
)
def test_each_kind_of_bad_row_is_named_on_its_line(container: Container, row: str, fragment: str) -> None:
    error = refused(container, people_csv(GOOD_ROW.replace("ada.boss@example.com", ""), row))
    assert named_lines(error.message) == {3}, error.message
    assert fragment in error.message.lower()
    assert directory(container) == {}


def test_a_duplicate_email_names_both_lines(container: Container) -> None:
    error = refused(container, people_csv("x@example.com,X,,,Ops,,US,,", "y@example.com,Y,,,Ops,,US,,", "X@EXAMPLE.COM,X2,,,Ops,,US,,"))
    assert named_lines(error.message) == {4}, error.message
    assert "already appears on line 2" in error.message
    assert directory(container) == {}


def test_a_slack_id_used_twice_is_refused_not_a_database_error(container: Container) -> None:
    import_csv(container, people_csv(*DIRECTORY))
    before = directory(container)
    # Line 2 takes Ada's Slack id; lines 3 and 4 share one.
    text = people_csv("new@example.com,New,U001,,Ops,,US,,", "x@example.com,X,U777,,Ops,,US,,", "y@example.com,Y,U777,,Ops,,US,,")
    error = refused(container, text)
    assert named_lines(error.message) == {2, 4}, error.message
    assert "U001 already belongs to ada.boss@example.com" in error.message
    assert "U777 already appears on line 3" in error.message
    assert directory(container) == before


def test_a_cycle_through_the_existing_directory_is_refused(container: Container) -> None:
    import_csv(container, people_csv(*DIRECTORY))
    before = directory(container)
    # Ada (top of the tree) would report to Carol, who reports to Dave, who reports to Ada.
    text = people_csv("ada.boss@example.com,Ada Boss,U001,carol@example.com,Leadership,manager;admin,US,2020-01-06,30")
    error = refused(container, text)
    assert named_lines(error.message) == {2}, error.message
    assert "ada.boss@example.com -> carol@example.com -> dave.lead@example.com -> ada.boss@example.com" in error.message
    assert directory(container) == before


def test_the_two_step_api_checks_rows_then_managers_before_writing(container: Container) -> None:
    with pytest.raises(ToolError) as caught:
        parse_people_csv(people_csv("x@example.com,X,,,Ops,boss,US,,"))
    assert named_lines(caught.value.message) == {2}
    rows = parse_people_csv(people_csv(GOOD_ROW.replace("ada.boss@example.com", ""), BAD_ROWS[9], BAD_ROWS[11], BAD_ROWS[12]))
    with transaction(container.session_factory) as session:
        with pytest.raises(ToolError) as caught:
            import_people(session, rows=rows)
        assert named_lines(caught.value.message) == {3, 4, 5}, caught.value.message
        assert not session.new and not session.dirty, "refused before anything was added to the session"
    assert directory(container) == {}


def test_missing_columns_are_refused(container: Container) -> None:
    header = "email,name,manager_email,department,roles,country"
    error = refused(container, people_csv("x@example.com,X,,Ops,,US", header=header))
    for column in ("slack_user_id", "start_date", "annual_leave_days"):
        assert column in error.message
    assert directory(container) == {}


def test_an_empty_file_is_refused(container: Container) -> None:
    assert "no rows" in refused(container, people_csv()).message
    assert "missing columns" in refused(container, "").message.lower()


@pytest.mark.parametrize("value", ["terminated", "left", "off", "x"])
def test_an_active_value_that_is_neither_true_nor_false_is_a_bad_row(container: Container, value: str) -> None:
    # someone who left must not stay able to act and approve because "terminated" was not a word we knew
    error = refused(container, people_csv(f"x@example.com,X,,,Ops,,US,,,,{value}", header=HEADER + ",timezone,active"))
    assert named_lines(error.message) == {2}, error.message
    assert "neither true nor false" in error.message


@pytest.mark.parametrize(("value", "active"), [("false", False), ("No", False), ("N", False), ("0", False),
                                                ("inactive", False), ("TRUE", True), ("y", True), ("1", True), ("", True)])
def test_active_words_a_spreadsheet_uses_are_understood(container: Container, value: str, active: bool) -> None:
    import_csv(container, people_csv(f"x@example.com,X,,,Ops,,US,,,,{value}", header=HEADER + ",timezone,active"))
    assert directory(container)["x@example.com"]["active"] is active


@pytest.mark.parametrize("header", [
    HEADER.upper(),
    "Email, Name, Slack User ID, Manager Email, Department, Roles, Country, Start Date, Annual Leave Days",
    "email,name,slack-user-id,manager-email,department,roles,country,start-date,annual-leave-days",
    "E-mail,Full Name,Slack ID,Manager E-mail,Department,Role,Country,Hire Date,Annual Leave Days",
], ids=["upper-case", "spreadsheet-titles", "dashes", "other-names"])
def test_a_header_written_the_way_spreadsheets_write_it_is_understood(container: Container, header: str) -> None:
    assert import_csv(container, people_csv(*DIRECTORY, header=header)).created == 4
    assert directory(container)["carol@example.com"]["manager"] == "dave.lead@example.com"


def test_a_semicolon_separated_file_and_a_trailing_row_of_separators_are_read(container: Container) -> None:
    # a spreadsheet saved in a comma-decimal locale separates cells with ";"; the roles then come with another separator
    rows = ["x@example.com;X;;;Ops;manager;DE;2020-01-01;27,5", "y@example.com;Y;;x@example.com;Ops;;DE;;"]
    text = people_csv(*rows, header=HEADER.replace(",", ";")) + ";;;;;;;;\n"
    assert import_csv(container, text).created == 2
    assert directory(container)["y@example.com"]["manager"] == "x@example.com"
    assert directory(container)["x@example.com"]["annual_leave_days"] == Decimal("27.5")  # the locale's decimal comma
    assert import_csv(container, people_csv(*DIRECTORY) + ",,,,,,,,\n").created == 4


@pytest.mark.parametrize(("written", "stored"), [("USA", "US"), ("DEU", "DE"), ("UK", "GB"), ("gbr", "GB"), ("fr", "FR")])
def test_a_country_written_with_three_letters_or_as_the_uk_is_stored_as_its_two_letter_code(container: Container, written: str,
                                                                                             stored: str) -> None:
    import_csv(container, people_csv(f"x@example.com,X,,,Ops,,{written},2020-01-01,25"))
    assert directory(container)["x@example.com"]["country"] == stored  # the holidays follow the two-letter code


def test_an_unknown_three_letter_country_is_a_bad_row(container: Container) -> None:
    assert "unknown country 'XYZ'" in str(refused(container, people_csv("x@example.com,X,,,Ops,,XYZ,2020-01-01,25")))


def test_a_column_not_read_is_reported_so_a_typo_is_not_taken_for_a_choice(container: Container) -> None:
    report = import_csv(container, people_csv("x@example.com,X,,,Ops,,US,2020-01-01,25,false,42",
                                              header=HEADER + ",actve,shoe_size"))
    assert report.created == 1 and directory(container)["x@example.com"]["active"] is True
    assert [note.split(" is not")[0] for note in report.warnings] == ["column 'actve'", "column 'shoe_size'"]
