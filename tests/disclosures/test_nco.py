"""The NCO export to CBS (R-DIS-4): language and arithmetic results with
exactly the listed columns, objectors left out, one disclosure to CBS with the
pupil count per export, from the command and from the screen (S-8), with
formulas neutralised (S-17)."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from consent import services
from consent.models import ConsentAnswer, ConsentCategory
from disclosures import nco
from disclosures.leerplicht import recent_school_years
from disclosures.models import Disclosure, DisclosurePupil, LegalBasis
from privacy_admin.actions import OTP_AT_KEY
from privacy_admin.models import AuditEvent
from privacy_admin.roles import SchoolRole
from students.models import Address, Guardian, GuardianLink, ProgressResult
from tests.conftest import age_session, make_staff
from tests.students.conftest import make_bsn, make_pupil

YEAR = "2025-2026"
ANNA_BSN = make_bsn()
IN_YEAR = datetime.date(2026, 1, 20)
LAST_YEAR = datetime.date(2025, 6, 10)  # school year 2024-2025


def result(pupil, subject, score="50", day=IN_YEAR, test="LVS midden", level="III"):
    return ProgressResult.objects.create(pupil=pupil, date=day, test=test, subject=subject, score=score, level=level)


def guardian_of(pupil, authority=True):
    guardian = Guardian.objects.create(first_name="Ouder", last_name=pupil.last_name)
    GuardianLink.objects.create(pupil=pupil, guardian=guardian, has_authority=authority)
    return guardian


def answer(pupil, category, guardian, value):
    services.answer_record(
        pupil=pupil, category=category, guardian=guardian, value=value, channel=ConsentAnswer.Channel.PAPER
    )


@pytest.fixture
def nco_category(school_a):
    services.categories_seed(school_a)
    return ConsentCategory.objects.get(school=school_a, key=nco.OBJECTION_CATEGORY_KEY)


@pytest.fixture
def pupils(school_a, group5_a, school_b, nco_category):
    """Anna takes part (her parents said 'no objection'); Bas has no answer
    (no answer is no objection); Cor's mother objected, his father did not;
    Dirk has only last year's results; Eva is in another school."""
    anna = make_pupil(school_a, group5_a, first="Anna", last="Aap", bsn=ANNA_BSN)
    anna.sex = "V"
    anna.save(update_fields=["sex"])
    Address.objects.create(
        pupil=anna, street="Oud", house_number="1", postcode="1000 AA", city="X", valid_from=datetime.date(2019, 1, 1)
    )
    Address.objects.create(
        pupil=anna,
        street="Nieuw",
        house_number="12a",
        postcode="3811 AB",
        city="Y",
        valid_from=datetime.date(2024, 1, 1),
    )
    answer(anna, nco_category, guardian_of(anna), ConsentAnswer.Value.GIVEN)
    result(anna, "Rekenen-Wiskunde", "52")
    result(anna, "Begrijpend lezen", "38", level="IV")
    result(anna, "Sociaal-emotioneel", "4")
    result(anna, "Rekenen", "40", day=LAST_YEAR)
    bas = make_pupil(school_a, group5_a, first="Bas", last="Beer")
    result(bas, "Spelling", "120")
    cor = make_pupil(school_a, group5_a, first="Cor", last="Cavia")
    answer(cor, nco_category, guardian_of(cor), ConsentAnswer.Value.REFUSED)
    answer(cor, nco_category, guardian_of(cor), ConsentAnswer.Value.GIVEN)
    result(cor, "Rekenen", "60")
    dirk = make_pupil(school_a, group5_a, first="Dirk", last="Das")
    result(dirk, "Rekenen", "60", day=LAST_YEAR)
    eva = make_pupil(school_b, first="Eva", last="Ezel")
    result(eva, "Rekenen", "60")
    return {"anna": anna, "bas": bas, "cor": cor, "dirk": dirk, "eva": eva}


def parse(text):
    return list(csv.reader(io.StringIO(text)))


def test_result_domain_mapping():
    """R-DIS-4: language and arithmetic subjects are recognised in Dutch and
    English; other subjects are not sent."""
    assert nco.result_domain("Rekenen-Wiskunde") == nco.ARITHMETIC
    assert nco.result_domain("rekenen") == nco.ARITHMETIC
    assert nco.result_domain("Maths") == nco.ARITHMETIC
    assert nco.result_domain("Begrijpend lezen") == nco.LANGUAGE
    assert nco.result_domain("Technisch lezen (DMT)") == nco.LANGUAGE
    assert nco.result_domain("Spelling") == nco.LANGUAGE
    assert nco.result_domain("Taal voor kleuters") == nco.LANGUAGE
    assert nco.result_domain("Reading") == nco.LANGUAGE
    for other in ("Sociaal-emotioneel", "Wereldoriëntatie", "Totaal", ""):
        assert nco.result_domain(other) is None


def test_r_dis_4_objectors_left_out_and_exactly_the_listed_columns(school_a, director_a, pupils):
    """R-DIS-4: the file has exactly the listed columns; language and
    arithmetic results of the school year only; the pupil whose parent
    objected is left out, whatever the other parent said."""
    disclosure, export = nco.nco_export(school=school_a, school_year=YEAR, acting_user=director_a)
    rows = parse(export.csv_text())
    listed = ("bsn", "sex", "birth_date", "full_name", "postcode", "house_number")
    result_columns = ("domain", "subject", "test", "test_date", "score", "level")
    assert tuple(rows[0]) == nco.COLUMNS == listed + result_columns
    anna = [ANNA_BSN, "V", "2017-03-14", "Anna Aap", "3811 AB", "12a"]
    bas = [pupils["bas"].bsn, "M", "2017-03-14", "Bas Beer", "", ""]
    assert sorted(rows[1:]) == sorted(
        [
            [*anna, "rekenen", "Rekenen-Wiskunde", "LVS midden", "2026-01-20", "52", "III"],
            [*anna, "taal", "Begrijpend lezen", "LVS midden", "2026-01-20", "38", "IV"],
            [*bas, "taal", "Spelling", "LVS midden", "2026-01-20", "120", "III"],
        ]
    )
    assert export.objected == 1
    assert disclosure.pupil_count == 2


def test_r_dis_4_recorded_as_one_disclosure_to_cbs(school_a, director_a, pupils):
    """R-DIS-4, R-DIS-7: one disclosure to CBS with the pupil count, a row per
    pupil for their tab, audited; a second export is a new disclosure."""
    disclosure, _export = nco.nco_export(school=school_a, school_year=YEAR, acting_user=director_a)
    assert Disclosure.objects.count() == 1
    assert disclosure.kind == Disclosure.Kind.NCO and disclosure.recipient.key == "cbs"
    assert disclosure.legal_basis == LegalBasis.PUBLIC_TASK
    assert disclosure.status == Disclosure.Status.DISCLOSED and disclosure.method == Disclosure.Method.CSV
    assert set(disclosure.fields) <= set(disclosure.recipient.fields)
    assert disclosure.requested_by == director_a == disclosure.decided_by
    assert set(DisclosurePupil.objects.values_list("pupil_id", flat=True)) == {pupils["anna"].pk, pupils["bas"].pk}
    event = AuditEvent.objects.get(action="disclosure.nco_export")
    assert event.details == {"school_year": YEAR, "pupils": 2, "results": 3, "left_out_objection": 1}
    second, _export = nco.nco_export(school=school_a, school_year=YEAR, acting_user=director_a)
    assert second.pk != disclosure.pk and Disclosure.objects.count() == 2
    assert DisclosurePupil.objects.filter(pupil=pupils["anna"]).count() == 2


def test_s_17_formulas_are_neutralised(school_a, director_a, pupils):
    """S-17: cells a spreadsheet would read as a formula start with '."""
    result(pupils["bas"], "Rekenen", "-5", test='=HYPERLINK("http://x")', level="@SUM(A1)")
    _disclosure, export = nco.nco_export(school=school_a, school_year=YEAR, acting_user=director_a)
    row = next(r for r in parse(export.csv_text()) if r[8].startswith("'="))
    assert row[8] == '\'=HYPERLINK("http://x")' and row[10] == "'-5" and row[11] == "'@SUM(A1)"


def test_r_dis_4_export_keeps_to_the_register_whitelist(school_a, director_a, pupils):
    """R-DIS-4: when the register's whitelist for CBS lacks an NCO field, the
    export is refused and nothing is recorded."""
    from disclosures.seed import seeded_recipient

    recipient = seeded_recipient(school_a.foundation, "cbs")
    recipient.fields = [key for key in recipient.fields if key != "bsn"]
    recipient.save(update_fields=["fields"])
    with pytest.raises(nco.NcoRefused, match="correct the register"):
        nco.nco_export(school=school_a, school_year=YEAR, acting_user=director_a)
    assert not Disclosure.objects.exists()


def test_nothing_to_export_records_nothing(school_a, director_a, nco_category):
    """A school year without results is refused, and nothing is recorded."""
    with pytest.raises(nco.NcoRefused):
        nco.nco_export(school=school_a, school_year=YEAR, acting_user=director_a)
    assert not Disclosure.objects.exists()


def test_s_13_only_roles_with_the_bsn_export(school_a, pupils):
    """S-13: the IB makes disclosures but does not see the BSN: no NCO export."""
    ib = make_staff("ib_a", school=school_a, role=SchoolRole.IB)
    with pytest.raises(nco.NcoRefused):
        nco.nco_export(school=school_a, school_year=YEAR, acting_user=ib)
    assert not Disclosure.objects.exists()


# --- The command -------------------------------------------------------------------


def test_r_dis_4_command_writes_the_file_and_records(tmp_path, school_a, director_a, pupils):
    """R-DIS-4: `manage.py nco_export` writes the CSV and records the
    disclosure; the terminal shows counts, no names or BSN."""
    out = tmp_path / "nco.csv"
    stdout = io.StringIO()
    call_command(
        "nco_export", "--school", "11aa", "--school-year", YEAR, "--out", str(out), "--by", "director_a", stdout=stdout
    )
    rows = parse(out.read_text(encoding="utf-8"))
    assert tuple(rows[0]) == nco.COLUMNS and len(rows) == 4
    assert "2 pupils, 3 results, 1 pupil left out" in stdout.getvalue()
    assert "Anna" not in stdout.getvalue() and ANNA_BSN not in stdout.getvalue()
    assert Disclosure.objects.get().pupil_count == 2
    with pytest.raises(CommandError, match="exists already"):
        call_command("nco_export", "--school", "11AA", "--school-year", YEAR, "--out", str(out), "--by", "director_a")
    assert Disclosure.objects.count() == 1


def test_command_dry_run_and_refusals(tmp_path, school_a, director_a, teacher_a, pupils):
    """--dry-run writes and records nothing; a bad school year, an unknown
    school or a staff member without the right is refused with a message."""
    out = tmp_path / "nco.csv"
    stdout = io.StringIO()
    base = ["nco_export", "--school", "11AA", "--out", str(out)]
    call_command(*base, "--school-year", YEAR, "--by", "director_a", "--dry-run", stdout=stdout)
    assert "Dry run" in stdout.getvalue() and "2 pupils" in stdout.getvalue()
    for args, message in (
        (["--school-year", "2025/2026", "--by", "director_a"], "school year"),
        (["--school-year", YEAR, "--by", "teacher_a"], "cannot make the NCO export"),
        (["--school-year", YEAR, "--by", "nobody"], "no active staff member"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command(*base, *args)
    with pytest.raises(CommandError, match="no school"):
        call_command("nco_export", "--school", "99ZZ", "--school-year", YEAR, "--out", str(out), "--by", "director_a")
    assert not out.exists() and not Disclosure.objects.exists()


def test_command_help_explains(capsys):
    """The command's --help names what it does and its options."""
    with pytest.raises(SystemExit):
        call_command("nco_export", "--help")
    text = capsys.readouterr().out
    for word in ("--school", "--school-year", "--out", "--by", "--dry-run", "objected", "CBS"):
        assert word in text


# --- The screen ----------------------------------------------------------------------


def test_r_dis_4_screen_downloads_the_csv(verified_client, director_a, school_a, pupils):
    """R-DIS-4: the same export on a screen answers the CSV and records the
    disclosure, which the screen then lists."""
    client = verified_client(director_a)
    url = reverse("nco_export")
    assert client.get(url).status_code == 200
    response = client.post(url, {"school": school_a.pk, "school_year": YEAR})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="nco-11AA-2025-2026.csv"' in response["Content-Disposition"]
    assert tuple(parse(response.content.decode())[0]) == nco.COLUMNS
    assert Disclosure.objects.get().pupil_count == 2
    assert "NCO: toetsresultaten" in client.get(url).content.decode()


def test_screen_refusal_comes_back_as_a_form_error(verified_client, director_a, school_a, nco_category):
    """Nothing to export: the form comes back with the reason; nothing is recorded."""
    school_year = recent_school_years()[2]
    response = verified_client(director_a).post(
        reverse("nco_export"), {"school": school_a.pk, "school_year": school_year}
    )
    assert response.status_code == 200 and "no language or arithmetic results" in response.content.decode()
    assert not Disclosure.objects.exists()


def test_s_8_screen_asks_for_the_second_factor_again(verified_client, director_a, school_a, pupils, settings):
    """S-8: an old second-factor check sends the user to confirm a code;
    nothing is exported."""
    client = verified_client(director_a)
    age_session(client, **{OTP_AT_KEY: settings.STEP_UP_MINUTES * 60 + 1})
    response = client.post(reverse("nco_export"), {"school": school_a.pk, "school_year": YEAR})
    assert response.status_code == 302 and response["Location"].startswith(reverse("step_up"))
    assert not Disclosure.objects.exists()


def test_screen_is_refused_without_the_bsn(verified_client, school_a):
    """S-13: the IB, who makes disclosures but does not see the BSN, gets 403."""
    ib = make_staff("ib_a", school=school_a, role=SchoolRole.IB)
    assert verified_client(ib).get(reverse("nco_export")).status_code == 403


# --- The demo ------------------------------------------------------------------------


def test_demo_gives_the_export_rows_and_the_leerplicht_list_a_flag(foundation):
    """R-DIS-4, R-DIS-2 on the demo data: with the demo pupils
    (students/demo.py) and the reports' demo (run twice: idempotent), last
    school year's NCO export of 99MS has rows and leaves out a family that
    objected, and one pupil is flagged for unauthorised absence."""
    from disclosures import demo_reports, leerplicht
    from privacy_admin.models import Group, School
    from privacy_admin.models.org import current_school_year
    from students import demo as students_demo
    from students.policy import visible_pupils

    schools = {}
    for brin in ("99MS", "99DS"):
        schools[brin] = School.objects.create(foundation=foundation, brin=brin, name=brin)
        for grade in range(1, 9):
            Group.objects.create(
                school=schools[brin], school_year=current_school_year(), grade=grade, name=f"Groep {grade}"
            )
    director = make_staff("directeur.a", school=schools["99MS"], role=SchoolRole.DIRECTOR)
    staff = {"directeur.a": director, "admin.a": make_staff("admin.a", school=schools["99MS"], role="administratief")}
    students_demo.seed(schools, staff, io.StringIO())
    services.categories_seed(schools["99MS"])
    objector = GuardianLink.objects.filter(
        pupil__school=schools["99MS"], pupil__group__grade=5, has_authority=True
    ).first()
    category = ConsentCategory.objects.get(school=schools["99MS"], key=nco.OBJECTION_CATEGORY_KEY)
    answer(objector.pupil, category, objector.guardian, ConsentAnswer.Value.REFUSED)
    demo_reports.seed(schools, staff, io.StringIO())
    results = ProgressResult.objects.count()
    demo_reports.seed(schools, staff, io.StringIO())
    assert ProgressResult.objects.count() == results
    export = nco.nco_collect(school=schools["99MS"], school_year=recent_school_years()[1], user=director)
    assert len(export.pupils) > 10 and export.objected == 1
    assert {row[6] for row in export.rows} == {nco.LANGUAGE, nco.ARITHMETIC}
    start, end = leerplicht.school_year_bounds(recent_school_years()[0])
    flags = leerplicht.flagged_pupils(visible_pupils(director), start, end)
    assert len(flags) == 1 and str(flags[0].window.hours) == "17.5"
