"""The public privacy statement in a real browser (issue 11 item 4): an
anonymous visitor opens the statement of the demo school, switches to
English with the language switch, and downloads the PDF."""

import io
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(live_server, settings):
    settings.DEBUG = True  # seed_demo refuses otherwise: demo passwords are known
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    settings.DEBUG = False
    return live_server.url


def test_visitor_reads_switches_to_english_and_downloads_the_pdf(page, demo):
    """R-CON-*, R-DIS-*, R-RET-*, R-RGT-*, R-BRK-1 published: no login, Dutch
    first, English by the switch, the same statement as a PDF."""
    page.goto(f"{demo}/privacy/99MS/")
    assert page.url.endswith("/privacy/99MS/")  # no detour to a login page
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("main h1").inner_text() == "Privacyverklaring Montessorischool De Vlinder"
    assert page.locator("#photos h2").inner_text() == "Foto's en video's"
    assert page.locator("#breaches").inner_text().count("fg@example.org") >= 1

    page.select_option("#lang-select", "en")
    page.locator("header form[action$='/i18n/setlang/'] button[type=submit]").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert re.search(r"/privacy/99MS/$", page.url)
    assert page.locator("main h1").inner_text() == "Privacy statement Montessorischool De Vlinder"
    assert page.locator("#photos h2").inner_text() == "Photos and videos"
    assert page.locator("#retention").inner_text().count("years after unenrolment") >= 1

    with page.expect_download() as download_info:
        page.locator("#statement-pdf").click()
    download = download_info.value
    assert re.fullmatch(r"privacyverklaring-99MS-v\d+-en\.pdf", download.suggested_filename)
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
