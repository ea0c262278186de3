"""Each role's home page on the demo data, in a real browser (issue 9 item
5): log in as the demo teacher, director, application admin and FG, take a
screenshot of the home page, and check its headings and that each expected
chart is an SVG image with a name. One browser, one context per role."""

import io
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from privacy_admin.management.commands.seed_demo import DEMO_PASSWORD
from privacy_admin.models import School, User
from tests.conftest import totp_code

pytestmark = pytest.mark.browser


def _shots_dir(tmp_path):
    """Where the screenshots go: DASHBOARD_SHOTS to keep them, else a tmp dir."""
    keep = os.environ.get("DASHBOARD_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path


def _expectations():
    """username → (headings, chart ids), on the demo data."""
    vlinder = School.objects.get(brin="99MS").pk
    groups = {"chart-consent-"}
    return {
        "leerkracht.a": (["Your groups and tasks", "Your groups", "Consent per group"], groups),
        "directeur.a": (
            ["Your school", "Inbox", "The school's state", "Consent per group", "Disclosures to third parties"],
            groups
            | {
                f"chart-breaches-{vlinder}-months",
                f"chart-breaches-{vlinder}-decision",
                "chart-disclosures-school",
            },
        ),
        "beheer.a": (
            ["Application management", "Background jobs: the latest run of each", "Staff accounts"],
            {"chart-staff", f"chart-retention-{vlinder}"},
        ),
        "fg": (
            ["Across the foundation", "Open data breaches", "Data breaches across the foundation"],
            {
                "chart-breaches-foundation-months",
                "chart-breaches-foundation-decision",
                "chart-disclosures-foundation",
            },
        ),
    }


@pytest.fixture
def demo(live_server, settings):
    settings.DEBUG = True  # seed_demo refuses otherwise: demo passwords are known
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    settings.DEBUG = False
    return live_server.url


def _login(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/verify/"))
    page.fill("#id_code", totp_code(user))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")


def test_each_role_home_page_shows_its_work_and_charts(browser, demo, tmp_path):
    """U-1, U-2, U-3, R-BRK-2, S-12: the teacher, the director, the
    application admin and the FG land on their own sections, with their
    charts drawn as named SVG images and a table of the numbers."""
    for username, (headings, charts) in _expectations().items():
        user = User.objects.get(username=username)
        context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
        context.set_default_timeout(10_000)
        try:
            page = context.new_page()
            _login(page, demo, user)
            shot = _shots_dir(tmp_path) / f"home-{username}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            present = {text.strip() for text in page.locator("main h2, main h3").all_inner_texts()}
            for heading in headings:
                assert heading in present, (username, heading, present)
            for chart_id in charts:
                # A trailing "-" names a family (one consent chart per group).
                figure = f"figure[id^='{chart_id}']" if chart_id.endswith("-") else f"figure#{chart_id}"
                svgs = page.locator(f"{figure} svg[role=img]")
                assert svgs.count() >= 1, (username, chart_id)
                for ref in svgs.first.get_attribute("aria-labelledby").split():
                    assert page.locator(f"[id='{ref}']").count() == 1, (username, ref)
                assert page.locator(f"{figure} details table").count() == svgs.count(), (username, chart_id)
            assert page.locator("figure.chart script").count() == 0  # charts need no JavaScript
        finally:
            context.close()
