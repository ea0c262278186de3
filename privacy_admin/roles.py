"""Roles and what each may do: the one readable place (R-ORG-2).

Roles come from the privacy statement. A role grants capabilities; the school
a capability applies to always comes from the membership that carries the role,
never from the role itself (Django's group permissions are global, which is why
they are not used for this). The application admin sees this table at
/beheer/rollen/.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SchoolRole(models.TextChoices):
    APP_ADMIN = "applicatiebeheerder", _("Application admin")
    DIRECTOR = "directeur", _("Director")
    ADMINISTRATION = "administratief", _("Administrative staff member")
    IB = "intern_begeleider", _("Internal supervisor (IB)")
    TEACHER = "leerkracht", _("Teacher")
    TEMP_TEACHER = "tijdelijke_leerkracht", _("Temporary teacher (trainee or substitute)")
    SUPPORT = "ondersteuningsteam", _("Support team member")


class FoundationRole(models.TextChoices):
    FG = "fg", _("Data protection officer (FG)")
    BOARD = "bestuurder", _("Board member (bestuurder)")
    # Stands in for the FG: alerted with the FG about every data breach and
    # keeps the register when the FG is away (R-BRK-1).
    FG_DEPUTY = "fg_plaatsvervanger", _("Deputy data protection officer")


CAPABILITIES = {
    "portal.use": _("Use the staff portal"),
    "dossier.all_pupils": _("View and edit the dossiers of all pupils of the school"),
    "dossier.assigned_tasks": _("Edit only what their assigned tasks need, while the assignment lasts"),
    "dossier.involved_pupils": _("See the whole dossier of pupils they are involved with"),
    "staff.manage": _("Manage staff accounts and roles of the school"),
    "roles.view": _("See this table of roles and capabilities"),
    "jobs.view": _("See the record of background job runs"),
    "audit.view": _("Read the audit log of the school"),
    "requests.decide": _("Approve or refuse requests from the Inspectie and parents' viewing requests"),
    "retention.run": _("Preview and confirm retention purges"),
    "breach.report": _("Report a (suspected) data breach"),
    "breach.manage": _("Assess data breaches and keep the register (all schools)"),
    "foundation.overview": _("See overviews across all schools of the foundation"),
    "pupil.bsn": _("See a pupil's BSN (needed for DUO and the BRP)"),
    "pupil.health": _("See health data (special category, AVG art. 9)"),
    "grants.manage": _("Manage assignments of temporary teachers and involvement of support staff"),
    "imports.run": _("Import pupils and BRP address updates"),
    "disclosures.make": _("Make disclosures to third parties and enter requests for them (Inspectie, transfer)"),
    "disclosures.emergency": _("Disclose in an emergency (break-glass; the director reviews it afterwards)"),
    "disclosures.register": _("Keep the register of recipients and processors"),
    "disclosures.view": _("See the school's disclosure log and the register of processing"),
    "disclosures.restricted": _("See records of suspected child abuse"),
    "legal_hold.manage": _("Set and lift legal holds on a pupil's data"),
    "rights.handle": _("Handle parents' requests to view, correct or remove data"),
}

_FULL_DOSSIER = {"portal.use", "dossier.all_pupils", "breach.report", "disclosures.emergency"}

# S-13: the BSN only for those who exchange data with DUO and the BRP; health
# data only for those who guide the child.
ROLE_CAPABILITIES = {
    SchoolRole.APP_ADMIN: _FULL_DOSSIER
    | {"staff.manage", "roles.view", "jobs.view", "audit.view", "retention.run", "pupil.bsn", "grants.manage"}
    | {"imports.run", "disclosures.register", "disclosures.view"},
    SchoolRole.DIRECTOR: _FULL_DOSSIER
    | {"roles.view", "audit.view", "requests.decide", "pupil.bsn", "pupil.health", "grants.manage"}
    | {"disclosures.make", "disclosures.register", "disclosures.view", "disclosures.restricted"}
    | {"legal_hold.manage", "rights.handle"},
    SchoolRole.ADMINISTRATION: _FULL_DOSSIER | {"pupil.bsn", "imports.run", "disclosures.make", "disclosures.view"},
    SchoolRole.IB: _FULL_DOSSIER | {"pupil.health", "disclosures.make", "disclosures.view", "disclosures.restricted"},
    SchoolRole.TEACHER: _FULL_DOSSIER | {"pupil.health"},
    SchoolRole.TEMP_TEACHER: {"portal.use", "dossier.assigned_tasks", "breach.report"},
    SchoolRole.SUPPORT: {"portal.use", "dossier.involved_pupils", "breach.report", "pupil.health"},
    FoundationRole.FG: {
        "portal.use",
        "breach.report",
        "breach.manage",
        "audit.view",
        "roles.view",
        "foundation.overview",
        "disclosures.view",
        "legal_hold.manage",
    },
    FoundationRole.BOARD: {"portal.use", "breach.report", "foundation.overview"},
    FoundationRole.FG_DEPUTY: {"portal.use", "breach.report", "breach.manage", "foundation.overview"},
}


def capabilities_for(role):
    return ROLE_CAPABILITIES.get(role, set())


def matrix():
    """Rows of (capability, description, [granted per role]) for display."""
    roles = list(SchoolRole) + list(FoundationRole)
    rows = [(code, label, [code in ROLE_CAPABILITIES[role] for role in roles]) for code, label in CAPABILITIES.items()]
    return roles, rows
