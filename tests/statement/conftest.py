"""Statement fixtures: school A with the usual consent categories and the
seeded register of recipients and processors (the retention rules come from
the retention app's data migration)."""

import html
import re

import pytest

from consent.services import categories_seed
from disclosures.seed import recipients_seed


@pytest.fixture
def configured_a(school_a):
    categories_seed(school_a)
    recipients_seed(school_a.foundation)
    return school_a


def text_of(html_fragment):
    """Text as read: inline tags dropped, block tags a space, whitespace folded."""
    text = re.sub(r"</?(strong|a|em|span|ins|del)\b[^>]*>", "", html_fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def page_text(response):
    """The text between <main> and </main>."""
    body = response.content.decode()
    return text_of(body[body.index("<main") : body.index("</main>")])


def section(response_or_html, section_id):
    """The text of one section of the statement, by its id."""
    body = response_or_html if isinstance(response_or_html, str) else response_or_html.content.decode()
    match = re.search(rf'<section class="card" id="{section_id}">(.*?)</section>', body, re.S)
    assert match, f"section {section_id} missing"
    return text_of(match.group(1))
