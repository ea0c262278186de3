"""The register of recipients and processors, its catalogue of fields, the
seeded entries and the processing agreements (R-DIS-2, R-DIS-3, R-DIS-5,
S-15, S-20)."""

import base64
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from disclosures import fields as catalogue
from disclosures.models import Recipient
from disclosures.seed import KEYS, recipients_seed
from privacy_admin.models import AuditEvent
from tests.conftest import make_staff

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = timezone.localdate()


def test_seed_has_the_fixed_keys_and_is_idempotent(foundation):
    """R-DIS-2, R-DIS-3, R-DIS-5: the standing recipients, the processors and
    the mandatory recipients under their fixed keys; a second run adds nothing
    and leaves an edited entry as it is."""
    assert recipients_seed(foundation) == len(KEYS)
    keys = set(Recipient.objects.filter(foundation=foundation).values_list("key", flat=True))
    assert {"inspectie", "receiving-school", "emergency", "leerplicht", "veilig-thuis", "cbs"} <= keys
    assert {"penningmeester-ouderraad", "samenwerkingsverband", "schoollogopedist", "cjg", "bibliotheek"} <= keys
    assert {"mondzorg-voor-kids", "parnassys", "cfolio", "basispoort", "onderwijs-transparant", "microsoft"} <= keys
    library = Recipient.objects.get(foundation=foundation, key="bibliotheek")
    library.fields = ["full_name"]
    library.save()
    assert recipients_seed(foundation) == 0
    library.refresh_from_db()
    assert library.fields == ["full_name"]
    assert Recipient.objects.get(key="mondzorg-voor-kids").registered_pupils_only
    assert Recipient.objects.get(key="bibliotheek").fields == ["full_name"]
    assert Recipient.objects.get(key="cbs").legal_basis == "public_task"


def test_every_seeded_whitelist_is_in_the_catalogue_and_processors_are_capped(register):
    """R-DIS-5: every seeded whitelist holds catalogue keys only; a processor
    at most name, birth date and year group."""
    for recipient in register.values():
        assert catalogue.unknown(recipient.fields) == [], recipient.key
        recipient.full_clean()
        if recipient.kind == Recipient.Kind.PROCESSOR:
            assert set(recipient.fields) <= {"full_name", "birth_date", "year_group"}, recipient.key
    assert register["bibliotheek"].fields == ["full_name", "group"]


def test_a_processor_cannot_get_a_fourth_field(register):
    """R-DIS-5: the model refuses a processor whitelist beyond name, birth
    date and year group."""
    processor = register["basispoort"]
    processor.fields = ["full_name", "birth_date", "year_group", "group"]
    with pytest.raises(ValidationError) as error:
        processor.full_clean()
    assert "fields" in error.value.message_dict


def test_catalogue_reads_only_the_keys_asked(pupil_a5):
    """R-DIS-3: values are read through the catalogue for exactly the keys given."""
    [(pupil, values)] = catalogue.rows([pupil_a5], ["full_name", "group"])
    assert values == {"full_name": "Anna Vijfje", "group": "Groep 5"}
    with pytest.raises(KeyError):
        catalogue.rows([pupil_a5], ["full_name", "shoe_size"])


def _form_data(**overrides):
    data = {
        "scope": "",
        "name": "Sportclub De Sprinters",
        "kind": "standing",
        "legal_basis": "public_task",
        "purpose": "Schoolsportdag",
        "fields": ["full_name", "group"],
        "active": "on",
    }
    data.update(overrides)
    return data


def test_director_adds_a_recipient_with_a_whitelist(verified_client, director_a, school_a):
    """R-DIS-3: a register entry with kind, basis, purpose and a whitelist
    picked from the catalogue; audited."""
    client = verified_client(director_a)
    assert client.get(reverse("recipient_add")).status_code == 200
    response = client.post(reverse("recipient_add"), _form_data(scope=f"school:{school_a.pk}"))
    assert response.status_code == 302
    recipient = Recipient.objects.get(name="Sportclub De Sprinters")
    assert recipient.school == school_a and recipient.fields == ["full_name", "group"]
    event = AuditEvent.objects.get(action="recipient.created")
    assert event.details["fields"] == ["full_name", "group"]


def test_register_form_refuses_a_processor_with_more_fields(verified_client, director_a, school_a):
    """R-DIS-5: the form refuses more than name, birth date and year group for
    a processor; nothing is stored and the form comes back with the error."""
    client = verified_client(director_a)
    data = _form_data(scope=f"school:{school_a.pk}", kind="processor", fields=["full_name", "birth_date", "bsn"])
    response = client.post(reverse("recipient_add"), data)
    assert response.status_code == 200
    assert "at most name, birth date and year group" in response.content.decode()
    assert not Recipient.objects.exists()


def test_register_form_refuses_unknown_fields_and_foreign_scope(verified_client, director_a, school_b):
    """S-16: a field outside the catalogue or a school outside the user's reach
    is a form error, nothing stored."""
    client = verified_client(director_a)
    response = client.post(reverse("recipient_add"), _form_data(scope=f"school:{school_b.pk}", fields=["shoe_size"]))
    assert response.status_code == 200
    assert not Recipient.objects.exists()


def test_consent_recipient_needs_its_question(verified_client, director_a, school_a):
    """R-DIS-1: a recipient with consent names the consent question it depends on."""
    client = verified_client(director_a)
    response = client.post(
        reverse("recipient_add"), _form_data(scope=f"school:{school_a.pk}", kind="consent", legal_basis="consent")
    )
    assert response.status_code == 200
    assert not Recipient.objects.exists()


def test_processing_agreement_upload_and_download(verified_client, director_a, register):
    """R-DIS-5, S-20: the agreement is stored (PDF by content only) with its
    dates and served through the access check."""
    client = verified_client(director_a)
    processor = register["cfolio"]
    url = reverse("recipient_edit", args=[processor.pk])
    base = {
        "name": processor.name,
        "legal_basis": processor.legal_basis,
        "purpose": processor.purpose,
        "fields": processor.fields,
        "active": "on",
        "agreement_signed_on": "2025-01-10",
        "agreement_expires_on": "2028-01-10",
    }
    fake = SimpleUploadedFile("vo.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.post(url, {**base, "agreement_document": fake})
    assert response.status_code == 200 and not Recipient.objects.get(pk=processor.pk).agreement_content
    good = SimpleUploadedFile("vo.pdf", PDF, content_type="application/pdf")
    assert client.post(url, {**base, "agreement_document": good}).status_code == 302
    processor.refresh_from_db()
    assert processor.agreement_state() == "ok"
    assert base64.b64decode(processor.agreement_content) == PDF
    download = client.get(reverse("recipient_agreement", args=[processor.pk]))
    assert download.status_code == 200 and download.content == PDF
    assert AuditEvent.objects.filter(action="recipient.agreement_read").count() == 1


def test_seeded_kind_cannot_be_changed(verified_client, director_a, register):
    """The mandatory recipients keep their kind: other code finds them by key."""
    client = verified_client(director_a)
    inspectie = register["inspectie"]
    data = {
        "name": inspectie.name,
        "kind": "processor",
        "legal_basis": inspectie.legal_basis,
        "purpose": inspectie.purpose,
        "fields": inspectie.fields,
        "active": "on",
    }
    assert client.post(reverse("recipient_edit", args=[inspectie.pk]), data).status_code == 302
    inspectie.refresh_from_db()
    assert inspectie.kind == Recipient.Kind.MANDATORY and inspectie.key == "inspectie"


def _set_agreement(recipient, signed, expires):
    recipient.agreement_signed_on = signed
    recipient.agreement_expires_on = expires
    recipient.agreement_content = base64.b64encode(PDF).decode()
    recipient.save()


def test_warning_when_an_agreement_is_missing_or_expired(verified_client, director_a, register):
    """R-DIS-5: the register page and the dashboard tag warn about a processor
    whose agreement is missing or expired, and not about a valid one."""
    for key in ("parnassys", "cfolio", "basispoort", "microsoft"):
        _set_agreement(register[key], TODAY - datetime.timedelta(days=100), TODAY + datetime.timedelta(days=400))
    _set_agreement(
        register["onderwijs-transparant"], TODAY - datetime.timedelta(days=900), TODAY - datetime.timedelta(days=1)
    )
    register["microsoft"].agreement_content = ""
    register["microsoft"].save()
    page = verified_client(director_a).get(reverse("recipient_list")).content.decode()
    warnings = page.split('id="agreement-warnings"')[1].split("</div>")[0]
    assert "Onderwijs Transparant" in warnings and "expired" in warnings
    assert "Microsoft" in warnings and "no signed processing agreement" in warnings
    assert "Cfolio" not in warnings and "ParnasSys" not in warnings

    request = RequestFactory().get("/")
    request.user = director_a
    html = Template("{% load disclosures_tags %}{% disclosures_warnings %}").render(Context({"request": request}))
    assert "Onderwijs Transparant" in html and "Microsoft" in html and "Cfolio" not in html
    teacher = make_staff("teacher_tag", school=director_a.memberships.first().school, role="leerkracht")
    request.user = teacher
    assert "Onderwijs Transparant" not in Template("{% load disclosures_tags %}{% disclosures_warnings %}").render(
        Context({"request": request})
    )


def test_showing_the_register_seeds_nothing_the_button_does(verified_client, app_admin_a, foundation):
    """S-15: a GET of the register writes nothing; the standard entries are
    added with a POST, once."""
    client = verified_client(app_admin_a)
    page = client.get(reverse("recipient_list"))
    assert page.status_code == 200 and not Recipient.objects.exists()
    assert "Add the standard entries" in page.content.decode()
    assert client.post(reverse("recipient_seed")).status_code == 302
    assert Recipient.objects.count() == len(KEYS)
    client.post(reverse("recipient_seed"))
    assert Recipient.objects.count() == len(KEYS)
    assert "Add the standard entries" not in client.get(reverse("recipient_list")).content.decode()


def test_register_scope_per_school(verified_client, director_a, school_a, school_b, register):
    """S-11: a school's own entry is edited only by that school's register
    keepers; another school's keeper gets a 404. The foundation's entries are
    shared by all."""
    own = Recipient.objects.create(
        foundation=school_a.foundation,
        school=school_a,
        name="Eigen",
        kind="standing",
        legal_basis="public_task",
        purpose="x",
        fields=["full_name"],
    )
    admin_b = make_staff("admin_b_reg", school=school_b, role="applicatiebeheerder")
    client = verified_client(admin_b)
    assert client.get(reverse("recipient_edit", args=[own.pk])).status_code == 404
    assert client.get(reverse("recipient_edit", args=[register["cjg"].pk])).status_code == 200
    assert "Eigen" not in client.get(reverse("recipient_list")).content.decode()
    assert "Eigen" in verified_client(director_a).get(reverse("recipient_list")).content.decode()
