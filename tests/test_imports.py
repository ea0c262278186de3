"""Bulk pupil import (R-DOS-1, issue 3 item 8) and BRP/DUO address updates
(R-DOS-6): all or nothing with line-numbered reasons (S-16), no names or BSN
in command output or audit details (S-24), BSN matched by keyed hash only
(S-25), the upload screen behind role, school and step-up (S-8, S-12)."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from privacy_admin.actions import OTP_AT_KEY
from privacy_admin.models import AuditEvent, Group, School
from privacy_admin.models.org import current_school_year
from privacy_admin.roles import SchoolRole
from students import demo, imports
from students.models import (
    Address,
    ConversationReport,
    Enrolment,
    EnrolmentEvent,
    Guardian,
    GuardianLink,
    ProgressResult,
    Pupil,
    SupportNeed,
)
from tests.conftest import age_session, make_staff

BSN_1 = "111222333"
BSN_2 = "123456782"
BSN_3 = "999990019"
BSN_PARENT = "999993653"
TODAY = timezone.localdate()
BIRTH = TODAY - timedelta(days=9 * 365)
ENROLLED = BIRTH + timedelta(days=4 * 365 + 30)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def groups_a(school_a, group5_a):
    group4 = Group.objects.create(school=school_a, school_year=current_school_year(), grade=4, name="Groep 4")
    return {"Groep 4": group4, "Groep 5": group5_a}


@pytest.fixture
def admin_staff_a(school_a):
    return make_staff("administratie_a", school=school_a, role=SchoolRole.ADMINISTRATION)


def pupil_row(**overrides):
    row = {
        "pupil_ref": "L001",
        "first_name": "Emma",
        "last_name": "de Vries",
        "birth_date": BIRTH.isoformat(),
        "sex": "V",
        "bsn": BSN_1,
        "group": "Groep 5",
        "enrolled_on": ENROLLED.isoformat(),
        "left_on": "",
        "destination": "",
        "street": "Lindelaan",
        "house_number": "12",
        "postcode": "3811AB",
        "city": "Amersfoort",
        "guardian1_name": "Sanne de Vries",
        "guardian1_email": "sanne@example.org",
        "guardian1_phone": "06-12345678",
        "guardian1_authority": "yes",
        "guardian2_name": "",
        "guardian2_email": "",
        "guardian2_phone": "",
        "guardian2_authority": "",
    }
    row.update(overrides)
    return row


def second_pupil(**overrides):
    row = {
        "pupil_ref": "L002",
        "first_name": "Noah",
        "last_name": "Bakker",
        "sex": "M",
        "bsn": BSN_2,
        "group": "Groep 4",
        "guardian1_name": "Mark Bakker",
        "guardian1_email": "mark@example.org",
        "guardian2_name": "Iris Jansen",
        "guardian2_email": "iris@example.org",
        "guardian2_phone": "",
        "guardian2_authority": "no",
    }
    return pupil_row(**{**row, **overrides})


def make_csv(rows, columns=imports.PUPIL_COLUMNS, delimiter=",", bom=False):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


def write(tmp_path, content, name="pupils.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=out, stderr=err)
    return excinfo.value, out.getvalue(), err.getvalue()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Pupil, Enrolment, EnrolmentEvent, Address, Guardian, GuardianLink, AuditEvent)
    }


# --- pupil import ---------------------------------------------------------------


@pytest.mark.parametrize(
    "delimiter,bom",
    [(",", False), (";", True), (";", False), (",", True)],
    ids=["comma", "semicolon-bom", "semicolon", "comma-bom"],
)
def test_dry_run_writes_nothing_and_commit_creates(tmp_path, groups_a, delimiter, bom):
    """R-DOS-1: comma or semicolon, with or without BOM; the dry run changes
    nothing, --commit creates pupil, enrolment, address, parents and events,
    with one audit event per pupil holding no values (S-24)."""
    path = write(tmp_path, make_csv([pupil_row(), second_pupil()], delimiter=delimiter, bom=bom))
    before = counts()
    out, _err = run("import_pupils", path, "--school", "11AA")
    assert "2 created, 0 updated, 0 unchanged" in out
    assert "line 2: create L001" in out
    assert counts() == before

    run("import_pupils", path, "--school", "11AA", "--commit")
    emma = Pupil.objects.with_bsn(BSN_1).get()
    assert (emma.pupil_ref, emma.group, emma.year_group, emma.bsn) == ("L001", groups_a["Groep 5"], 5, BSN_1)
    assert emma.enrolment.application_date == ENROLLED and emma.enrolment.placement_guarantee
    assert emma.addresses.get().postcode == "3811 AB"
    assert emma.addresses.get().source == Address.Source.IMPORT
    assert list(emma.enrolment_events.values_list("kind", flat=True)) == ["enrolment"]
    noah = Pupil.objects.get(pupil_ref="L002")
    links = {link.guardian.email: link.has_authority for link in noah.guardian_links.select_related("guardian")}
    assert links == {"mark@example.org": True, "iris@example.org": False}
    events = AuditEvent.objects.filter(action="dossier.imported")
    assert {e.pupil_id for e in events} == {emma.pk, noah.pk}
    assert all(e.school_id == emma.school_id for e in events)
    details = str(list(events.values_list("details", flat=True)))
    for value in (BSN_1, BSN_2, "Emma", "Vries", "Lindelaan", "sanne@example.org", "3811"):
        assert value not in details


def test_reimport_changes_nothing(tmp_path, groups_a):
    """R-DOS-1: importing the same file again plans every pupil unchanged and
    writes nothing, not even an audit row."""
    path = write(tmp_path, make_csv([pupil_row(), second_pupil()]))
    run("import_pupils", path, "--school", "11AA", "--commit")
    before = counts()
    out, _err = run("import_pupils", path, "--school", "11AA", "--commit")
    assert "0 created, 0 updated, 2 unchanged" in out
    assert counts() == before


def test_update_adds_address_history_and_unenrolment(tmp_path, groups_a):
    """R-DOS-1, R-DOS-4: a changed address is a new history row that becomes
    current; leaving adds the unenrolment; the audit names fields only."""
    run("import_pupils", write(tmp_path, make_csv([pupil_row()])), "--school", "11AA", "--commit")
    left = (TODAY - timedelta(days=3)).isoformat()
    changed = pupil_row(street="Molenweg", guardian1_phone="06-87654321", left_on=left, destination="special")
    out, _err = run("import_pupils", write(tmp_path, make_csv([changed]), "v2.csv"), "--school", "11AA", "--commit")
    assert "update L001 (left_on, destination, address, guardian1.phone)" in out
    pupil = Pupil.objects.get(pupil_ref="L001")
    assert [a.street for a in pupil.addresses.all()] == ["Molenweg", "Lindelaan"]
    assert pupil.enrolment.left_on.isoformat() == left and pupil.enrolment.destination == "special"
    assert pupil.enrolment_events.filter(kind="unenrolment").count() == 1
    assert Guardian.objects.get().phone == "06-87654321"
    event = AuditEvent.objects.filter(action="dossier.imported").latest("seq")
    assert event.details["result"] == "update"
    assert event.details["changed"] == ["address", "destination", "guardian1.phone", "left_on"]
    again = run("import_pupils", write(tmp_path, make_csv([changed]), "v2.csv"), "--school", "11AA")[0]
    assert "0 created, 0 updated, 1 unchanged" in again


def test_bad_rows_each_reported_by_line_and_nothing_created(tmp_path, groups_a):
    """S-16, R-DOS-1: every bad row is reported with its line number and
    reason, the command exits with status 1, and not one row is written."""
    rows = [
        pupil_row(),  # line 2: good
        second_pupil(bsn="123456789"),  # line 3: fails the eleven test
        pupil_row(pupil_ref="L003", bsn="", postcode="38 AB", left_on=(ENROLLED - timedelta(days=1)).isoformat()),
        pupil_row(bsn=""),  # line 5: pupil_ref of line 2 again
        pupil_row(pupil_ref="L005", bsn="", group="Groep 9"),  # line 6: unknown group
        pupil_row(pupil_ref="L006", bsn="", destination="abroad"),  # line 7: destination while enrolled
        pupil_row(pupil_ref="L007", bsn="", birth_date=(ENROLLED - timedelta(days=365)).isoformat()),  # line 8
        pupil_row(pupil_ref="L008", bsn=BSN_1),  # line 9: BSN of line 2 again
        pupil_row(pupil_ref="L009", bsn="", guardian1_phone="call me", guardian1_authority="maybe"),  # line 10
    ]
    before = counts()
    error, out, err = run_failing("import_pupils", write(tmp_path, make_csv(rows)), "--school", "11AA", "--commit")
    assert error.returncode == 1
    lines = err.splitlines()
    assert "line 3: bsn is not a valid BSN (it fails the eleven test)" in lines
    assert "line 4: postcode is not a Dutch postcode (1234 AB)" in lines
    assert "line 4: left_on lies before enrolled_on" in lines
    assert "line 5: pupil_ref also appears on line 2" in lines
    assert any(line.startswith("line 6: group:") for line in lines)
    assert any(line.startswith("line 7: destination must be empty") for line in lines)
    assert any(line.startswith("line 8: birth_date and enrolled_on do not fit") for line in lines)
    assert "line 9: bsn also appears on line 2" in lines
    assert "line 10: guardian1_phone is not a phone number" in lines
    assert "line 10: guardian1_authority must be yes or no" in lines
    assert not any(line.startswith("line 2:") for line in lines)
    assert out == ""
    assert counts() == before


def test_bsn_of_another_pupil_and_bad_header(tmp_path, groups_a):
    """S-16: a BSN that belongs to another pupil of the school is refused;
    a file without the exact header is refused at line 1."""
    run("import_pupils", write(tmp_path, make_csv([pupil_row()])), "--school", "11AA", "--commit")
    _e, _o, err = run_failing("import_pupils", write(tmp_path, make_csv([second_pupil(bsn=BSN_1)])), "--school", "11AA")
    assert "line 2: bsn belongs to another pupil of this school (pupil_ref L001)" in err
    headerless = make_csv([pupil_row()]).split(b"\r\n", 1)[1]
    _e, _o, err = run_failing("import_pupils", write(tmp_path, headerless, "x.csv"), "--school", "11AA")
    assert "line 1: the header misses the columns: pupil_ref, first_name" in err
    assert BSN_1 not in err and "Emma" not in err  # the data row is not echoed as "unknown columns" (S-24)


def test_exit_status_is_1_on_bad_file(tmp_path, groups_a):
    """S-16: run as a program, a bad file ends with exit status 1."""
    path = write(tmp_path, make_csv([pupil_row(bsn="123456789")]))
    # run_from_argv turns this returncode into the exit status; calling it here
    # would close the test's database connection, so the error is checked.
    with pytest.raises(CommandError) as excinfo:
        call_command("import_pupils", path, "--school", "11AA", stdout=io.StringIO(), stderr=io.StringIO())
    assert excinfo.value.returncode == 1
    assert Pupil.objects.count() == 0


def test_no_bsn_or_name_in_command_output(tmp_path, groups_a, capfd):
    """S-24: dry run, commit and errors print pupil_ref and counts only."""
    rows = [pupil_row(), second_pupil()]
    path = write(tmp_path, make_csv(rows))
    outputs = [run("import_pupils", path, "--school", "11AA", "--verbosity", "2")]
    outputs.append(run("import_pupils", path, "--school", "11AA", "--commit"))
    bad = write(tmp_path, make_csv([pupil_row(postcode="nope", guardian1_email="not-an-email")]), "bad.csv")
    _e, out, err = run_failing("import_pupils", bad, "--school", "11AA")
    outputs.append((out, err))
    captured = capfd.readouterr()
    text = "\n".join(o + e for o, e in outputs) + captured.out + captured.err
    for row in rows:
        for column in ("bsn", "first_name", "last_name", "street", "guardian1_name", "guardian1_email"):
            assert row[column] not in text, column
    assert "nope" not in text and "not-an-email" not in text


def test_left_pupil_needs_destination_and_no_old_group(groups_a):
    """R-DOS-1, R-RET-5: left_on needs a destination; a pupil who left before
    this school year cannot be put in one of this year's groups."""
    year_start = date(int(current_school_year()[:4]), 8, 1)
    long_ago = (year_start - timedelta(days=200)).isoformat()
    parsed = imports.parse_pupil_file(
        make_csv(
            [
                pupil_row(left_on=long_ago, destination=""),
                pupil_row(pupil_ref="L2", bsn="", left_on=long_ago, destination="special"),
                pupil_row(pupil_ref="L3", bsn="", left_on=long_ago, destination="special", group=""),
            ]
        ),
        school=groups_a["Groep 5"].school,
    )
    reasons = {(e.line, e.reason.split(":")[0]) for e in parsed.errors}
    assert (2, "destination is required with left_on") in reasons
    assert (3, "group must be empty for a pupil who left before this school year") in reasons
    assert not [e for e in parsed.errors if e.line == 4]


def test_plan_queries_do_not_grow_with_pupils(groups_a, django_assert_num_queries):
    """STYLE 7/12: planning reads a constant number of queries per file."""
    school = groups_a["Groep 5"].school
    many = [pupil_row(pupil_ref=f"P{i}", bsn="") for i in range(6)]
    for rows in (many[:2], many):
        parsed = imports.parse_pupil_file(make_csv(rows))
        plan = imports.plan_pupil_import(parsed.rows, school)
        imports.apply_pupil_import(plan, school)
    with django_assert_num_queries(6):
        imports.plan_pupil_import(imports.parse_pupil_file(make_csv(many[:2])).rows, school)
    with django_assert_num_queries(6):
        imports.plan_pupil_import(imports.parse_pupil_file(make_csv(many)).rows, school)


# --- BRP/DUO --------------------------------------------------------------------


def brp_row(bsn=BSN_1, **overrides):
    row = {
        "bsn": bsn,
        "first_name": "Emma",
        "last_name": "de Vries",
        "street": "Nieuwe Gracht",
        "house_number": "7a",
        "postcode": "3512 LT",
        "city": "Utrecht",
        "date_of_change": (TODAY - timedelta(days=10)).isoformat(),
    }
    row.update(overrides)
    return row


def brp_csv(rows, **kwargs):
    return make_csv(rows, columns=imports.BRP_COLUMNS, **kwargs)


@pytest.fixture
def imported(tmp_path, groups_a):
    """Two pupils of school A through the import, and a parent with a BSN."""
    run("import_pupils", write(tmp_path, make_csv([pupil_row(), second_pupil()])), "--school", "11AA", "--commit")
    parent = Guardian.objects.get(email="mark@example.org")
    parent.set_bsn(BSN_PARENT)
    parent.save()
    return {"emma": Pupil.objects.get(pupil_ref="L001"), "noah": Pupil.objects.get(pupil_ref="L002"), "parent": parent}


def test_brp_plan_shows_old_and_new_and_apply_audits(imported, school_a):
    """R-DOS-6: matched by BSN (keyed hash); the plan shows old -> new per
    pupil and parent; applying adds a BRP address row valid from the date of
    change, updates the parent, and audits each change in the same step."""
    same = brp_row(BSN_2, street="Lindelaan", house_number="12", postcode="3811 AB", city="Amersfoort")
    parsed = imports.parse_brp_file(brp_csv([brp_row(), same, brp_row(BSN_PARENT)], delimiter=";", bom=True), school_a)
    assert parsed.ok, parsed.errors
    plan = imports.plan_brp_import(parsed.rows, school_a)
    by_line = {c.line: c for c in plan.changes}
    assert by_line[2].kind == "change" and by_line[2].pupil == imported["emma"]
    assert str(by_line[2].old) == "Lindelaan 12, 3811 AB Amersfoort"
    assert str(by_line[2].new) == "Nieuwe Gracht 7a, 3512 LT Utrecht"
    assert by_line[3].kind == "unchanged"
    assert by_line[4].guardian == imported["parent"] and by_line[4].old is None
    assert AuditEvent.objects.filter(action="dossier.address_updated_brp").count() == 0

    assert imports.apply_brp_import(plan, school_a) == 2
    current = imported["emma"].addresses.first()
    assert (current.street, current.source, current.valid_from) == ("Nieuwe Gracht", "brp", TODAY - timedelta(days=10))
    parent = Guardian.objects.get(pk=imported["parent"].pk)
    assert (parent.street, parent.postcode) == ("Nieuwe Gracht", "3512 LT")
    events = AuditEvent.objects.filter(action="dossier.address_updated_brp").order_by("seq")
    assert [(e.pupil_id, e.details["person"]) for e in events] == [
        (imported["emma"].pk, "pupil"),
        (imported["noah"].pk, "guardian"),
    ]
    assert "Gracht" not in str(list(events.values_list("details", flat=True)))
    again = imports.plan_brp_import(parsed.rows, school_a)
    assert {c.kind for c in again.changes} == {"unchanged"}


def test_brp_unknown_bsn_reported_by_line_and_nothing_applied(tmp_path, imported, school_b):
    """R-DOS-6, S-16: an unknown BSN (also: one of another school's pupil), a
    bad BSN, postcode or date are reported by line; nothing is applied."""
    other = Pupil(school=school_b, first_name="Sam", last_name="Smit", birth_date=BIRTH, sex="X")
    other.set_bsn(BSN_3)
    other.save()
    rows = [
        brp_row(),  # line 2: fine
        brp_row(BSN_3),  # line 3: a pupil of school B
        brp_row("123456789"),  # line 4: fails the eleven test
        brp_row(BSN_2, postcode="ABCD 12"),  # line 5
        brp_row(BSN_PARENT, date_of_change="2024-13-01"),  # line 6
    ]
    before = counts()
    error, out, err = run_failing("import_brp", write(tmp_path, brp_csv(rows)), "--school", "11AA", "--commit")
    assert error.returncode == 1
    lines = err.splitlines()
    assert "line 3: bsn is not known at this school (no pupil or parent has it)" in lines
    assert "line 4: bsn is not a valid BSN (it fails the eleven test)" in lines
    assert "line 5: postcode is not a Dutch postcode (1234 AB)" in lines
    assert "line 6: date_of_change is not a date in the form YYYY-MM-DD" in lines
    assert not any(line.startswith("line 2") for line in lines)
    assert counts() == before


def test_brp_command_dry_run_then_commit(tmp_path, imported):
    """R-DOS-6, S-24: the dry run names pupil_ref and field names only; the
    commit applies and audits."""
    path = write(tmp_path, brp_csv([brp_row(), brp_row(BSN_PARENT)]))
    before = counts()
    out, _err = run("import_brp", path, "--school", "11AA")
    assert "line 2: pupil L001: address changes (street, house_number, postcode, city)" in out
    assert f"line 3: parent #{imported['parent'].pk}: address changes" in out
    assert counts() == before
    for value in (BSN_1, BSN_PARENT, "Emma", "Gracht", "3512"):
        assert value not in out
    out, _err = run("import_brp", path, "--school", "11AA", "--commit")
    assert "2 addresses updated" in out
    assert AuditEvent.objects.filter(action="dossier.address_updated_brp").count() == 2


# --- upload screen ----------------------------------------------------------------


def upload(content, name="brp.csv", content_type="text/csv"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_upload_screen_preview_then_confirm(verified_client, app_admin_a, school_a, imported):
    """R-DOS-6, S-8: the application admin uploads, sees old -> new, nothing
    is applied until the confirm post, which applies and audits."""
    client = verified_client(app_admin_a)
    page = client.get("/leerlingen/brp-import/")
    assert page.status_code == 200
    assert b'type="file"' in page.content
    before = counts()
    preview = client.post("/leerlingen/brp-import/", {"school": school_a.pk, "file": upload(brp_csv([brp_row()]))})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Lindelaan 12, 3811 AB Amersfoort" in html and "Nieuwe Gracht 7a, 3512 LT Utrecht" in html
    assert BSN_1 not in html  # the file rides along sealed, not readable (S-25)
    assert counts() == before
    payload = re.search(r'name="payload" value="([^"]+)"', html).group(1)
    response = client.post("/leerlingen/brp-import/bevestigen/", {"payload": payload})
    assert response.status_code == 302
    assert imported["emma"].addresses.first().street == "Nieuwe Gracht"
    event = AuditEvent.objects.get(action="dossier.address_updated_brp")
    assert event.actor_id == app_admin_a.pk and event.pupil_id == imported["emma"].pk


def test_upload_screen_shows_errors_by_line(verified_client, admin_staff_a, school_a, imported):
    """R-DOS-6, S-16: the administrative staff member sees every bad line and
    gets no confirm button; nothing is applied."""
    client = verified_client(admin_staff_a)
    content = brp_csv([brp_row(), brp_row("999999999"), brp_row(BSN_2, postcode="1")])
    before = counts()
    response = client.post("/leerlingen/brp-import/", {"school": school_a.pk, "file": upload(content)})
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"<td>3</td><td>bsn is not", html) and re.search(r"<td>4</td><td>postcode", html)
    assert 'name="payload"' not in html
    assert counts() == before


def test_upload_screen_refuses_teacher_and_other_school(verified_client, teacher_a, app_admin_a, school_b, imported):
    """S-12, R-DOS-6: a teacher gets 403 on both steps; the admin cannot pick
    a school that is not theirs."""
    teacher = verified_client(teacher_a)
    assert teacher.get("/leerlingen/brp-import/").status_code == 403
    assert teacher.post("/leerlingen/brp-import/", {"school": school_b.pk}).status_code == 403
    assert teacher.post("/leerlingen/brp-import/bevestigen/", {"payload": "x"}).status_code == 403
    admin = verified_client(app_admin_a)
    assert f'value="{school_b.pk}"' not in admin.get("/leerlingen/brp-import/").content.decode()
    before = counts()
    response = admin.post("/leerlingen/brp-import/", {"school": school_b.pk, "file": upload(brp_csv([brp_row()]))})
    assert response.status_code == 200 and 'name="payload"' not in response.content.decode()
    assert response.context["form"].errors["school"]
    assert counts() == before


def test_confirm_refuses_stale_tampered_and_foreign_payloads(
    verified_client, app_admin_a, admin_staff_a, school_a, imported
):
    """S-8: confirm needs a recent second factor; a payload altered, or made
    for another user, applies nothing."""
    client = verified_client(app_admin_a)
    html = client.post(
        "/leerlingen/brp-import/", {"school": school_a.pk, "file": upload(brp_csv([brp_row()]))}
    ).content.decode()
    payload = re.search(r'name="payload" value="([^"]+)"', html).group(1)
    before = counts()
    other = verified_client(admin_staff_a)
    assert other.post("/leerlingen/brp-import/bevestigen/", {"payload": payload}).status_code == 302
    tampered = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    assert client.post("/leerlingen/brp-import/bevestigen/", {"payload": tampered}).status_code == 302
    assert counts() == before
    age_session(client, **{OTP_AT_KEY: (settings.STEP_UP_MINUTES + 1) * 60})
    response = client.post("/leerlingen/brp-import/bevestigen/", {"payload": payload})
    assert response["Location"].startswith("/accounts/confirm/")
    assert counts() == before


def test_upload_refuses_large_and_non_csv_files(verified_client, app_admin_a, school_a, imported):
    """S-20: at most 2 MB, text CSV only."""
    client = verified_client(app_admin_a)
    big = brp_csv([brp_row()]) + b"#" * (2 * 1024 * 1024)
    response = client.post("/leerlingen/brp-import/", {"school": school_a.pk, "file": upload(big)})
    assert "larger than 2 MB" in str(response.context["form"].errors["file"])
    pdf = upload(b"%PDF-1.4 ...", name="brp.pdf", content_type="application/pdf")
    response = client.post("/leerlingen/brp-import/", {"school": school_a.pk, "file": pdf})
    assert response.context["form"].errors["file"]
    binary = upload(b"bsn,first_name\x00", content_type="text/csv")
    response = client.post("/leerlingen/brp-import/", {"school": school_a.pk, "file": binary})
    assert response.context["form"].errors["file"]


# --- junk never gets through (S-16) -------------------------------------------------

_GOOD_CELLS = [BSN_1, "123456789", "Groep 5", "Groep 9", "2015-02-30", ENROLLED.isoformat(), "3811 AB", "yes", "V"]
_cell = st.one_of(st.sampled_from(_GOOD_CELLS + [""]), st.text(max_size=12))


@st.composite
def junk_csv(draw, columns):
    delimiter = draw(st.sampled_from([",", ";"]))
    header = draw(st.one_of(st.just(list(columns)), st.lists(st.sampled_from(columns), max_size=len(columns) + 1)))
    rows = draw(st.lists(st.lists(_cell, min_size=len(columns) - 1, max_size=len(columns) + 1), max_size=4))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    text = draw(st.sampled_from(["", "\ufeff"])) + buffer.getvalue()
    return draw(st.sampled_from([text, text.encode("utf-8", "surrogatepass")]))


@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pupils=st.one_of(junk_csv(imports.PUPIL_COLUMNS), st.binary(max_size=200), st.text(max_size=200)),
    brp=st.one_of(junk_csv(imports.BRP_COLUMNS), st.binary(max_size=200)),
)
def test_junk_files_give_a_clean_error_list_and_write_nothing(groups_a, pupils, brp):
    """S-16: whatever the bytes, parsing returns good rows and line-numbered
    errors, never an exception; a file with errors never reaches the plan,
    and the dry run writes nothing."""
    school = groups_a["Groep 5"].school
    before = counts()
    for parse, plan in (
        (imports.parse_pupil_file, imports.plan_pupil_import),
        (imports.parse_brp_file, imports.plan_brp_import),
    ):
        parsed = parse(pupils if parse is imports.parse_pupil_file else brp, school=school)
        assert all(isinstance(e.line, int) and e.line >= 1 and e.reason for e in parsed.errors)
        if parsed.ok:
            plan(parsed.rows, school)
    assert counts() == before


# --- demo data ------------------------------------------------------------------------


def test_demo_pupils_come_through_the_import_and_a_second_run_changes_nothing(foundation, teacher_a):
    """R-DOS-1 (issue 3 item 8): seed_demo's pupils are built by the import;
    seeding again writes nothing; demo BSNs are test-range BSNs."""
    schools = {}
    for brin in ("99MS", "99DS"):
        schools[brin] = School.objects.create(foundation=foundation, brin=brin, name=brin)
        for grade in range(1, 9):
            Group.objects.create(
                school=schools[brin], school_year=current_school_year(), grade=grade, name=f"Groep {grade}"
            )
    out = io.StringIO()
    demo.seed(schools=schools, staff={"leerkracht.a": teacher_a}, stdout=out)
    assert "Demo pupils 99MS: 29 created" in out.getvalue()
    assert Pupil.objects.filter(school=schools["99MS"], group__isnull=False).count() == 28
    assert Pupil.objects.filter(school=schools["99DS"]).count() == 6
    left = Enrolment.objects.get(pupil__school=schools["99MS"], left_on__isnull=False)
    assert left.destination == "special" and left.pupil.group is None
    assert all(p.bsn.startswith("9999") for p in Pupil.objects.all())
    records = (SupportNeed.objects.count(), ProgressResult.objects.count(), ConversationReport.objects.count())
    assert records == (1, 4, 1)
    before = counts()
    out = io.StringIO()
    demo.seed(schools=schools, staff={"leerkracht.a": teacher_a}, stdout=out)
    assert "99MS: 0 created, 0 updated, 29 unchanged" in out.getvalue()
    assert counts() == before
    assert (SupportNeed.objects.count(), ProgressResult.objects.count(), ConversationReport.objects.count()) == records
