"""Publishing the statement: a new version whenever what it says changes.

`statement_publish(school)` is lazy and idempotent: it gathers the facts
(statement/facts.py, a handful of queries), and when their digest together
with the templates' source equals that of the latest version, that version is
still in force and nothing is rendered. Otherwise both languages are rendered;
when the rendered content differs from the latest version's, it is stored as
the next version with the time of publication. It runs on every view of the
public page, from `current_version_number` (which the consent app calls,
through privacy_admin.published, when it records an answer) and from
`publish_all()` for the lead's jobs or a shell.

Versions are never changed: only `source_digest`, a cache of what the
content was generated from, is moved forward when new facts render to the
same content.
"""

import hashlib
import json
import logging

from django.db import IntegrityError, transaction
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from privacy_admin.auditlog import audit_record
from privacy_admin.models import School
from statement.facts import LANGUAGES, localise, statement_facts
from statement.models import StatementText, StatementVersion

logger = logging.getLogger(__name__)

CONTENT_TEMPLATES = {"nl": "statement/statement_nl.html", "en": "statement/statement_en.html"}
# Every template the content is rendered from: a change to any of them is a
# change to what the statement may say.
SOURCE_TEMPLATES = (*CONTENT_TEMPLATES.values(), "statement/_term_nl.html", "statement/_term_en.html")


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _source_digest(facts):
    parts = [json.dumps(facts, sort_keys=True, ensure_ascii=False)]
    parts += [get_template(name).template.source for name in SOURCE_TEMPLATES]
    return _sha256("\0".join(parts))


def content_digest(content_nl, content_en):
    return _sha256(f"{content_nl}\0{content_en}")


def statement_render(facts, language):
    """The statement's sections as HTML in `language` ("nl" or "en")."""
    with translation.override(language):
        return render_to_string(CONTENT_TEMPLATES[language], {"f": localise(facts, language)})


def latest_version(school):
    return StatementVersion.objects.filter(school=school).order_by("-number").first()


def statement_publish(school, *, today=None):
    """The version in force for `school`, made first when what the statement
    says differs from the latest version."""
    facts = statement_facts(school, today=today)
    source = _source_digest(facts)
    latest = latest_version(school)
    if latest is not None and latest.source_digest == source:
        return latest
    content = {language: statement_render(facts, language) for language in LANGUAGES}
    digest = content_digest(content["nl"], content["en"])
    if latest is not None and latest.digest == digest:
        StatementVersion.objects.filter(pk=latest.pk).update(source_digest=source)
        return latest
    try:
        with transaction.atomic():
            return StatementVersion.objects.create(
                school=school,
                number=(latest.number + 1) if latest else 1,
                published_at=timezone.now(),
                content_nl=content["nl"],
                content_en=content["en"],
                digest=digest,
                source_digest=source,
            )
    except IntegrityError:
        # Another request published the same change a moment earlier.
        return latest_version(school)


def current_version_number(school_id):
    """The provider registered in privacy_admin.published: the number of the
    version in force when a consent answer is recorded. A failure here must
    not stop a parent's answer, so it is logged (no personal data) and the
    latest known version is recorded instead."""
    school = School.objects.select_related("foundation").filter(pk=school_id).first()
    if school is None:
        return None
    try:
        with transaction.atomic():
            return statement_publish(school).number
    except Exception:
        logger.exception("statement version for school %s could not be determined", school_id)
        latest = latest_version(school)
        return latest.number if latest else None


def publish_all():
    """Bring every school's statement up to date; returns {BRIN: number}."""
    return {school.brin: statement_publish(school).number for school in School.objects.select_related("foundation")}


@transaction.atomic
def statement_text_change(*, school, intro_nl, intro_en, closing_nl, closing_en, acting_user, request=None):
    """The director or application admin changes the texts around the
    generated statement; audited (names of the changed texts only, never the
    text), then published as a new version."""
    text, _created = StatementText.objects.select_for_update().get_or_create(school=school)
    new = {"intro_nl": intro_nl, "intro_en": intro_en, "closing_nl": closing_nl, "closing_en": closing_en}
    changed = sorted(name for name, value in new.items() if getattr(text, name) != value)
    if not changed:
        return text, None
    for name, value in new.items():
        setattr(text, name, value)
    text.updated_at = timezone.now()
    text.updated_by = acting_user
    text.save()
    version = statement_publish(school)
    audit_record(
        "statement.text_changed",
        actor=acting_user,
        request=request,
        obj=text,
        school_id=school.pk,
        details={"changed": changed, "version": version.number},
    )
    return text, version
