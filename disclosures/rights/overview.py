"""The dossier overview made for a viewing (R-RGT-1, R-DIS-7): both parts of
the dossier, the disclosures of the pupil, and who viewed the dossier. What
shows is what the staff member's own dossier access covers (the director
sees all of it); a part left out says so on the page.

A fixed number of queries, whatever the size of the dossier.
"""

from django.db.models import Prefetch

from disclosures.models import Disclosure, DisclosurePupil
from disclosures.policy import RECIPIENT_DOCUMENT
from privacy_admin.models import AuditEvent, User
from students.models import (
    Address,
    Agreement,
    AttendanceRecord,
    ConversationReport,
    Document,
    EnrolmentEvent,
    FundingRecord,
    HealthNote,
    PaperDossier,
    ProgressResult,
    SupportNeed,
)
from students.policy import RECORD_TYPES

# Reads of the dossier as students.actions.dossier_read writes them.
READ_PREFIX = "dossier.read_"
READS_SHOWN = 1000


def _rows(access, record_type, queryset):
    return list(queryset) if access.can_view(record_type) else None


def overview(access):
    """The context of the overview for this dossier access."""
    pupil = access.pupil
    context = {
        "pupil": pupil,
        "enrolment": getattr(pupil, "enrolment", None) if access.can_view("enrolment_event") else None,
        "paper": PaperDossier.objects.filter(pupil=pupil).first() if access.can_view("enrolment_event") else None,
        "guardian_links": (
            list(pupil.guardian_links.select_related("guardian").order_by("-has_authority", "pk"))
            if access.can_view("contact")
            else None
        ),
        "addresses": _rows(access, "contact", Address.objects.filter(pupil=pupil)),
        "events": _rows(access, "enrolment_event", EnrolmentEvent.objects.filter(pupil=pupil)),
        "attendance": _rows(access, "attendance", AttendanceRecord.objects.filter(pupil=pupil)),
        "funding": _rows(access, "funding", FundingRecord.objects.filter(pupil=pupil)),
        "support_needs": _rows(access, "support", SupportNeed.objects.filter(pupil=pupil)),
        "health_notes": _rows(access, "health", HealthNote.objects.filter(pupil=pupil)),
        "results": _rows(access, "progress", ProgressResult.objects.filter(pupil=pupil)),
        "conversations": _rows(
            access,
            "conversation",
            ConversationReport.objects.filter(pupil=pupil).prefetch_related(
                Prefetch("attachments", queryset=Document.objects.only("pk", "conversation_id", "filename"))
            ),
        ),
        "agreements": _rows(access, "agreement", Agreement.objects.filter(pupil=pupil)),
        "documents": _rows(
            access,
            "document",
            Document.objects.filter(pupil=pupil, conversation=None).only("pk", "filename", "size", "uploaded_at"),
        ),
        "disclosures": disclosures_of(pupil),
        "reads": reads_of(pupil),
    }
    context["left_out"] = [t for t in RECORD_TYPES if not access.can_view(t)]
    return context


def disclosures_of(pupil):
    """What was given to third parties about the pupil (R-DIS-7), without the
    restricted records of a suspected child abuse report."""
    rows = list(
        DisclosurePupil.objects.filter(
            pupil=pupil, disclosure__restricted=False, disclosure__status=Disclosure.Status.DISCLOSED
        )
        .select_related("disclosure", "disclosure__recipient")
        .defer(*(f"disclosure__{name}" for name in RECIPIENT_DOCUMENT))
        .order_by("-disclosure__disclosed_at", "-disclosure__requested_at", "-pk")
    )
    for row in rows:
        row.field_text = ", ".join(str(label) for label in _field_labels(row.disclosure.fields or []))
    return rows


def _field_labels(keys):
    """The catalogue's names of the disclosed fields (disclosures.fields),
    or the keys themselves where the catalogue does not know them."""
    try:
        from disclosures.fields import labels
    except ImportError:
        return keys
    return labels(keys)


def reads_of(pupil):
    """Who viewed the dossier: the audit log's reads of this pupil's dossier
    (the same rows as the dossier's log), newest first, with the staff
    member's name where the account still exists."""
    events = list(
        AuditEvent.objects.filter(pupil_id=pupil.pk, action__startswith=READ_PREFIX).order_by("-seq")[:READS_SHOWN]
    )
    names = {
        user.pk: user.get_full_name() or user.username
        for user in User.objects.filter(pk__in={e.actor_id for e in events if e.actor_id}).only(
            "pk", "first_name", "last_name", "username"
        )
    }
    return [
        {
            "at": event.at,
            "who": names.get(event.actor_id, event.actor_label),
            "part": event.action.removeprefix(READ_PREFIX),
            "ground": event.ground,
        }
        for event in events
    ]
