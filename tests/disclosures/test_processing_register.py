"""The register of processing activities (AVG art. 30): generated from the
recipients, processors, consent categories and retention rules, as a page and
a PDF; the FG sees every school of the foundation, a director their own; no
pupil data."""

import base64
import datetime
import re
import zlib

import pytest
from django.urls import reverse

from consent.models import ConsentCategory
from consent.services import categories_seed
from disclosures.models import LegalBasis, Recipient
from disclosures.seed import recipients_seed
from tests.students.conftest import make_pupil

URL = reverse("processing_register")


@pytest.fixture
def register(foundation, school_a, school_b):
    recipients_seed(foundation)
    Recipient.objects.filter(foundation=foundation, key="parnassys").update(
        agreement_signed_on=datetime.date(2024, 2, 1),
        agreement_expires_on=datetime.date(2099, 1, 31),
        agreement_filename="vwo.pdf",
        agreement_content="JVBERi0=",
    )
    Recipient.objects.create(
        foundation=foundation,
        school=school_b,
        key="fotograaf-b",
        name="Schoolfotograaf De Lens",
        kind=Recipient.Kind.STANDING,
        legal_basis=LegalBasis.PUBLIC_TASK,
        purpose="Schoolfoto's",
        fields=["full_name", "group"],
    )
    categories_seed(school_a)
    categories_seed(school_b)
    ConsentCategory.objects.create(school=school_b, key="schoolreis", label_nl="Schoolreis B", label_en="Trip B")
    make_pupil(school_a, first="Geheime", last="Leerlingnaam")


def pdf_text(content):
    """The text drawn on the pages of a reportlab PDF (ASCII85 + Flate streams)."""
    text = b""
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", content, re.S):
        data = match.group(1).strip().removesuffix(b"~>")
        text += zlib.decompress(base64.a85decode(data))
    return text.decode("latin-1")


SHARED = (
    "Stichting Test",
    "Inspectie van het Onderwijs",  # a mandatory recipient
    "Bibliotheek op school",  # a standing recipient
    "Full name, Group",  # its whitelist, as catalogue labels
    "ParnasSys",  # a processor with its agreement
    "signed on 01-02-2024",
    "Cfolio",  # a processor without one
    "missing",
    "Research (NCO/CBS)",  # a consent category of school A
    "Attendance and absence",  # a retention rule and its term
    "5 years",
    "left for special education",
)


def test_fg_sees_every_school_of_the_foundation(verified_client, fg, register):
    """AVG art. 30: the FG's register holds the recipients, processors with
    their agreements, the consent categories of every school and the
    retention terms; no pupil data."""
    page = verified_client(fg).get(URL)
    body = page.content.decode()
    assert page.status_code == 200
    for text in SHARED + ("School B (22BB)", "Schoolfotograaf De Lens", "Trip B"):
        assert text in body, text
    assert "Leerlingnaam" not in body


def test_director_sees_only_their_school(verified_client, director_a, register):
    """A director's register holds the foundation's recipients and their own
    school, not another school's recipients or categories."""
    body = verified_client(director_a).get(URL).content.decode()
    for text in SHARED + ("School A (11AA)",):
        assert text in body, text
    for text in ("School B", "Schoolfotograaf De Lens", "Trip B", "Leerlingnaam"):
        assert text not in body, text


def test_register_as_pdf(verified_client, fg, register):
    """AVG art. 30: the same register as a PDF for the FG."""
    response = verified_client(fg).get(URL + "?format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="verwerkingsregister.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    for word in ("ParnasSys", "Cfolio", "Inspectie", "Schoolfotograaf", "Trip B"):
        assert word in text, word
    assert "Attendance and absence" in text and "Leerlingnaam" not in text


def test_register_needs_the_capability(verified_client, teacher_a, register):
    """A teacher does not keep or read the register: 403."""
    assert verified_client(teacher_a).get(URL).status_code == 403
