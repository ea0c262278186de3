"""Exports to standing recipients, with consent and to processors: exactly the
whitelist, blocked pupils with their reason, step-up, formulas neutralised
(R-DIS-1, R-DIS-3, R-DIS-5, R-DIS-7, S-8, S-12, S-13, S-17)."""

import base64
import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentCategory
from consent.services import answer_record, categories_seed
from disclosures import actions
from disclosures.models import Disclosure, DisclosurePupil, Recipient
from privacy_admin.models import AuditEvent
from students.models import Address
from tests.disclosures.conftest import add_parent, age_second_factor
from tests.students.conftest import make_pupil

TODAY = timezone.localdate()
STANDING_AND_PROCESSORS = [
    "penningmeester-ouderraad",
    "samenwerkingsverband",
    "schoollogopedist",
    "cjg",
    "bibliotheek",
    "mondzorg-voor-kids",
    "parnassys",
    "cfolio",
    "basispoort",
    "onderwijs-transparant",
]
SLUG = {"standing": "vaste-ontvanger", "processor": "verwerker", "consent": "toestemming"}


def valid_agreement(recipient):
    recipient.agreement_signed_on = TODAY - datetime.timedelta(days=10)
    recipient.agreement_expires_on = TODAY + datetime.timedelta(days=700)
    recipient.agreement_content = base64.b64encode(b"%PDF-1.4").decode()
    recipient.save()


def export(client, recipient, *, pupils=(), group=None, method="csv"):
    """Preview, then confirm, as the form does; returns (preview, confirm)."""
    url = reverse("disclosure_new", args=[SLUG[recipient.kind]])
    data = {"recipient": recipient.pk, "method": method, "pupils": [p.pk for p in pupils]}
    if group is not None:
        data["group"] = group.pk
    preview = client.post(url, data)
    confirm = client.post(url, {**data, "confirm": "1"})
    return preview, confirm


def read_csv(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def rich_pupil(pupil_a5, mother_a5):
    Address.objects.create(
        pupil=pupil_a5,
        street="Lindelaan",
        house_number="12",
        postcode="1234 AB",
        city="Amersfoort",
        valid_from=datetime.date(2020, 1, 1),
    )
    pupil_a5.year_group = 5
    pupil_a5.mondzorg_registered = True
    pupil_a5.save()
    return pupil_a5


@pytest.mark.parametrize("key", STANDING_AND_PROCESSORS)
def test_export_columns_are_exactly_the_whitelist(key, verified_client, director_a, register, rich_pupil, group5_a):
    """R-DIS-3, R-DIS-5: the CSV of every standing recipient and processor has
    exactly the whitelisted fields as its columns, no more."""
    recipient = register[key]
    if recipient.kind == Recipient.Kind.PROCESSOR:
        valid_agreement(recipient)
    client = verified_client(director_a)
    preview, confirm = export(client, recipient, group=group5_a)
    assert preview.status_code == 200 and "What would be disclosed" in preview.content.decode()
    assert confirm.status_code == 302, confirm.content.decode()[:2000]
    disclosure = Disclosure.objects.get()
    assert disclosure.fields == recipient.fields and disclosure.status == Disclosure.Status.DISCLOSED
    rows = read_csv(client.get(reverse("disclosure_data", args=[disclosure.pk]) + "?format=csv"))
    assert rows[0] == recipient.fields
    assert len(rows) == 2 and len(rows[1]) == len(recipient.fields)
    assert "Anna Vijfje" in rows[1] or "Anna" in rows[1]
    if "bsn" not in recipient.fields:
        assert rich_pupil.bsn not in "".join(rows[1])
    if "guardian_phones" not in recipient.fields:
        assert "0600000001" not in "".join(rows[1])


def test_export_as_pdf_and_on_screen_shows_only_the_whitelist(verified_client, director_a, register, rich_pupil):
    """R-DIS-3: the PDF and the screen show the whitelisted fields only."""
    client = verified_client(director_a)
    export(client, register["bibliotheek"], pupils=[rich_pupil], method="pdf")
    disclosure = Disclosure.objects.get()
    pdf = client.get(reverse("disclosure_data", args=[disclosure.pk]) + "?format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    page = client.get(reverse("disclosure_data", args=[disclosure.pk])).content.decode()
    data = page.split('id="disclosed-data"')[1].split("</dl>")[0]
    assert data.count("<dt>") == 2 and "Full name" in data and "Group" in data
    assert "Lindelaan" not in page and "1234 AB" not in page


def test_csv_neutralises_formulas(verified_client, director_a, register, school_a, group5_a):
    """S-17: a cell that a spreadsheet would read as a formula starts with '."""
    evil = make_pupil(school_a, group5_a, first='=HYPERLINK("http://x")', last="@SUM(A1)")
    client = verified_client(director_a)
    export(client, register["bibliotheek"], pupils=[evil])
    disclosure = Disclosure.objects.get()
    rows = read_csv(client.get(reverse("disclosure_data", args=[disclosure.pk]) + "?format=csv"))
    assert rows[1][0].startswith("'=HYPERLINK")


@pytest.fixture
def photographer(school_a, foundation, categories_consent):
    return Recipient.objects.create(
        foundation=foundation,
        school=school_a,
        name="Schoolfotograaf",
        kind=Recipient.Kind.CONSENT,
        legal_basis="consent",
        purpose="Schoolfoto's",
        fields=["full_name", "group"],
        consent_category=categories_consent["website"],
    )


@pytest.fixture
def categories_consent(school_a):
    categories_seed(school_a)
    return {c.key: c for c in ConsentCategory.objects.filter(school=school_a)}


def test_consent_less_disclosure_is_blocked(
    verified_client, director_a, photographer, categories_consent, school_a, group5_a
):
    """R-DIS-1: only pupils whose parents gave consent for the recipient's
    question are disclosed; the others are listed as blocked with the reason,
    and nothing is disclosed about them."""
    website = categories_consent["website"]
    yes = make_pupil(school_a, group5_a, first="Ja", last="Toestemming")
    no = make_pupil(school_a, group5_a, first="Nee", last="Geweigerd")
    make_pupil(school_a, group5_a, first="Geen", last="Antwoord")
    answer_record(
        pupil=yes, category=website, guardian=add_parent(yes, "P", "p1@example.org"), value="given", channel="paper"
    )
    answer_record(
        pupil=no, category=website, guardian=add_parent(no, "Q", "q1@example.org"), value="refused", channel="paper"
    )
    client = verified_client(director_a)
    preview, confirm = export(client, photographer, group=group5_a)
    page = preview.content.decode()
    blocked = page.split('id="plan-blocked"')[1].split("</table>")[0]
    assert "Nee Geweigerd" in blocked and "consent refused" in blocked
    assert "Geen Antwoord" in blocked and "no consent recorded" in blocked
    assert "Ja Toestemming" not in blocked
    assert confirm.status_code == 302
    disclosure = Disclosure.objects.get()
    assert list(DisclosurePupil.objects.values_list("pupil_id", flat=True)) == [yes.pk]
    assert disclosure.pupil_count == 1 and disclosure.legal_basis == "consent"
    rows = read_csv(client.get(reverse("disclosure_data", args=[disclosure.pk]) + "?format=csv"))
    assert [r[0] for r in rows[1:]] == ["Ja Toestemming"]
    assert AuditEvent.objects.get(action="disclosure.disclosed").details["blocked"] == 2


def test_nothing_is_disclosed_when_everyone_is_blocked(director_a, photographer, school_a, group5_a):
    """R-DIS-1: without any consent there is no disclosure at all."""
    silent = make_pupil(school_a, group5_a, first="Geen", last="Antwoord")
    with pytest.raises(ValidationError):
        actions.disclosure_export_make(
            school=school_a,
            recipient=photographer,
            kind="consent",
            pupils=[silent],
            method="csv",
            acting_user=director_a,
        )
    assert not Disclosure.objects.exists()


def test_mondzorg_only_gets_registered_pupils(director_a, register, school_a, group5_a):
    """R-DIS-3: Mondzorg voor Kids only receives pupils their parents registered."""
    registered = make_pupil(school_a, group5_a, first="Wel", last="Aangemeld", mondzorg_registered=True)
    other = make_pupil(school_a, group5_a, first="Niet", last="Aangemeld")
    disclosure, plan = actions.disclosure_export_make(
        school=school_a,
        recipient=register["mondzorg-voor-kids"],
        kind="standing",
        pupils=[registered, other],
        method="csv",
        acting_user=director_a,
    )
    assert [p.pk for p in plan.allowed] == [registered.pk]
    assert [b.pupil.pk for b in plan.blocked] == [other.pk]
    assert list(disclosure.pupils.values_list("pupil_id", flat=True)) == [registered.pk]


def test_processor_export_needs_a_valid_agreement(director_a, register, school_a, pupil_a5):
    """R-DIS-5: no export to a processor without a processing agreement, or
    with an expired one; and never to one whose whitelist is empty."""
    basispoort = register["basispoort"]
    for expires in (None, TODAY - datetime.timedelta(days=1)):
        basispoort.agreement_signed_on = TODAY - datetime.timedelta(days=400) if expires else None
        basispoort.agreement_expires_on = expires
        basispoort.agreement_content = base64.b64encode(b"%PDF-1.4").decode() if expires else ""
        basispoort.save()
        with pytest.raises(ValidationError, match="processing agreement"):
            actions.disclosure_export_make(
                school=school_a,
                recipient=basispoort,
                kind="processor",
                pupils=[pupil_a5],
                method="csv",
                acting_user=director_a,
            )
    valid_agreement(register["microsoft"])
    with pytest.raises(ValidationError, match="Nothing to disclose"):
        actions.disclosure_export_make(
            school=school_a,
            recipient=register["microsoft"],
            kind="processor",
            pupils=[pupil_a5],
            method="csv",
            acting_user=director_a,
        )
    assert not Disclosure.objects.exists()


def test_processor_export_is_capped_even_when_the_register_was_tampered(director_a, register, school_a, pupil_a5):
    """R-DIS-5: a processor whose stored whitelist was widened outside the
    forms still gets at most name, birth date and year group: refused."""
    parnassys = register["parnassys"]
    valid_agreement(parnassys)
    Recipient.objects.filter(pk=parnassys.pk).update(fields=["full_name", "birth_date", "year_group", "bsn"])
    parnassys.refresh_from_db()
    with pytest.raises(ValidationError, match="at most"):
        actions.disclosure_export_make(
            school=school_a,
            recipient=parnassys,
            kind="processor",
            pupils=[pupil_a5],
            method="csv",
            acting_user=director_a,
        )


def test_export_asks_the_second_factor_again(verified_client, director_a, register, pupil_a5):
    """S-8: making an export and downloading it ask for a fresh code when the
    last check is older than a few minutes; nothing is made before that."""
    client = age_second_factor(verified_client(director_a))
    url = reverse("disclosure_new", args=["vaste-ontvanger"])
    assert client.get(url)["Location"].startswith(reverse("step_up"))
    response = client.post(
        url, {"recipient": register["bibliotheek"].pk, "method": "csv", "pupils": [pupil_a5.pk], "confirm": "1"}
    )
    assert response["Location"].startswith(reverse("step_up"))
    assert not Disclosure.objects.exists()
    disclosure, _plan = actions.disclosure_export_make(
        school=pupil_a5.school,
        recipient=register["bibliotheek"],
        kind="standing",
        pupils=[pupil_a5],
        method="csv",
        acting_user=director_a,
    )
    download = client.get(reverse("disclosure_data", args=[disclosure.pk]) + "?format=csv")
    assert download["Location"].startswith(reverse("step_up"))


def test_pupils_of_another_school_cannot_be_chosen(verified_client, director_a, register, pupil_b, pupil_a5):
    """S-12: the form offers and accepts only the school's pupils the user sees."""
    client = verified_client(director_a)
    url = reverse("disclosure_new", args=["vaste-ontvanger"])
    page = client.get(url).content.decode()
    assert pupil_a5.full_name in page and pupil_b.full_name not in page
    response = client.post(
        url, {"recipient": register["bibliotheek"].pk, "method": "csv", "pupils": [pupil_b.pk], "confirm": "1"}
    )
    assert response.status_code == 200 and not Disclosure.objects.exists()


def test_bsn_only_for_roles_that_need_it(verified_client, ib_a, director_a, register, school_a, pupil_a5):
    """S-13: the BSN is never offered to or disclosed by a role that may not
    see it (the IB); a disclosure that holds it cannot be read by that role."""
    client = verified_client(ib_a)
    page = client.get(reverse("disclosure_new", args=["inspectie"])).content.decode()
    assert 'value="bsn"' not in page and 'value="full_name"' in page
    with pytest.raises(ValidationError, match="may not see"):
        actions.disclosure_request_make(
            school=school_a,
            pupils=[pupil_a5],
            fields=["full_name", "bsn"],
            purpose="x",
            recipient_detail="y",
            method="csv",
            acting_user=ib_a,
        )
    request = actions.disclosure_request_make(
        school=school_a,
        pupils=[pupil_a5],
        fields=["full_name", "bsn"],
        purpose="x",
        recipient_detail="y",
        method="csv",
        acting_user=director_a,
    )
    actions.disclosure_approve(disclosure=request, reason="ok", acting_user=director_a)
    assert client.get(reverse("disclosure_data", args=[request.pk]) + "?format=csv").status_code == 403
    rows = read_csv(verified_client(director_a).get(reverse("disclosure_data", args=[request.pk]) + "?format=csv"))
    assert rows[0] == ["full_name", "bsn"] and rows[1][1] == pupil_a5.bsn
    for event in AuditEvent.objects.all():
        assert pupil_a5.bsn not in str(event.details) and pupil_a5.bsn not in event.ground


def test_export_is_in_each_pupils_log(director_a, register, school_a, pupil_a5, group5_a):
    """R-DIS-7, R-ACC-7: a disclosure is audited once, and once per pupil, with
    the fields by key (no content)."""
    other = make_pupil(school_a, group5_a, first="Tim", last="Tweede")
    disclosure, _plan = actions.disclosure_export_make(
        school=school_a,
        recipient=register["bibliotheek"],
        kind="standing",
        pupils=[pupil_a5, other],
        method="csv",
        acting_user=director_a,
    )
    event = AuditEvent.objects.get(action="disclosure.disclosed")
    assert event.details["fields"] == ["full_name", "group"] and event.details["pupils"] == 2
    assert set(AuditEvent.objects.filter(action="disclosure.pupil_disclosed").values_list("pupil_id", flat=True)) == {
        pupil_a5.pk,
        other.pk,
    }
    assert disclosure.requested_by == director_a and disclosure.legal_basis == "public_task"
