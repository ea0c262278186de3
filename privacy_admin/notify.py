"""E-mail that carries a link, never data (R-DIS-6, S-24).

Every message the system sends is one of the fixed notices below: a subject, a
fixed sentence and a link into the portal, where the reader logs in before
seeing anything. There is no way to pass free text, so no caller can put a
name, a BSN or a code into an e-mail by accident.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

NOTICES = {
    "password_set": (
        gettext_lazy("Set the password for your staff account"),
        gettext_lazy(
            "An account was created for you in the privacy administration of your school. "
            "Use the link below to choose a password; you will then set up the two-step login."
        ),
    ),
    "password_reset": (
        gettext_lazy("Reset your password"),
        gettext_lazy(
            "Someone asked to reset the password of your staff account. If that was you, use the "
            "link below. Your two-step login stays as it is. If it was not you, ignore this message."
        ),
    ),
    "parent_portal_invite": (
        gettext_lazy("The parents' portal of your child's school"),
        gettext_lazy(
            "Your child's school invites you to its parents' portal. There you see and change your "
            "privacy preferences at any moment. You log in with this e-mail address and a code we send you."
        ),
    ),
    "parent_preferences_changed": (
        gettext_lazy("Your privacy preferences were changed"),
        gettext_lazy(
            "Your privacy preferences in the parents' portal were changed. Log in to see them. If you did not "
            "change them, contact the school."
        ),
    ),
    "parent_yearly_reminder": (
        gettext_lazy("Your privacy preferences for the new school year"),
        gettext_lazy(
            "A new school year has started. You can see and change your privacy preferences for your child at "
            "any moment in the parents' portal."
        ),
    ),
    "second_factor_reset": (
        gettext_lazy("Your two-step login was reset"),
        gettext_lazy(
            "The two-step login of your staff account was reset. At your next login you will set "
            "it up again. If you did not expect this, tell your application admin at once."
        ),
    ),
    # Data breaches (breaches/): the link leads to the incident; what happened
    # is only ever read in the portal (R-BRK-1, R-DIS-6).
    "breach_reported": (
        gettext_lazy("A (suspected) data breach was reported"),
        gettext_lazy(
            "A staff member reported a (suspected) data breach. The 72-hour clock for notifying the "
            "Autoriteit Persoonsgegevens is running. Log in to read the report."
        ),
    ),
    "breach_escalation": (
        gettext_lazy("Data breach: no decision yet"),
        gettext_lazy(
            "A reported data breach has no decision yet on notifying the Autoriteit Persoonsgegevens, "
            "and the 72-hour deadline is coming closer. Log in to see the incident and its clock."
        ),
    ),
    # Disclosures (disclosures/): what was asked or given is only ever read in
    # the portal (R-DIS-2, R-DIS-7, U-2, R-DIS-6).
    "disclosure_pending": (
        gettext_lazy("A disclosure waits for your decision"),
        gettext_lazy(
            "A request to disclose pupil data (for instance from the Inspectie van het Onderwijs) waits for "
            "your approval or refusal. Nothing is disclosed before you decide. Log in to see the request."
        ),
    ),
    "disclosure_decided": (
        gettext_lazy("Your disclosure request was decided"),
        gettext_lazy("The director decided on a disclosure request you entered. Log in to see the decision."),
    ),
    "disclosure_emergency": (
        gettext_lazy("An emergency disclosure was made"),
        gettext_lazy(
            "A staff member disclosed pupil data in an emergency (break-glass). You are told at once and "
            "must review the disclosure. Log in to see it."
        ),
    ),
    "disclosure_transfer_copy": (
        gettext_lazy("The report for your child's new school"),
        gettext_lazy(
            "Your child's school made the report (onderwijskundig rapport) for the move to another school. "
            "You can read your copy in the parents' portal and add your view to it."
        ),
    ),
    # Parents' requests (disclosures/rights/): the link leads to the request;
    # what was asked or decided is only ever read after signing in (R-RGT-1..4).
    "parent_request_received": (
        gettext_lazy("We received your request"),
        gettext_lazy(
            "The school received your request about your child's dossier and answers it within one month. "
            "Log in to the parents' portal to follow your request."
        ),
    ),
    "parent_request_update": (
        gettext_lazy("News about your request"),
        gettext_lazy(
            "There is news about your request about your child's dossier: an appointment, a decision or a later "
            "deadline. Log in to the parents' portal to read it."
        ),
    ),
    "rights_request_new": (
        gettext_lazy("A parent made a request about a dossier"),
        gettext_lazy(
            "A parent asked to view a pupil's dossier or to correct or remove data in it. The request must be "
            "answered within one month. Log in to see it."
        ),
    ),
    "rights_deadline_warning": (
        gettext_lazy("A parent's request is nearly due"),
        gettext_lazy(
            "The deadline of a parent's request about a pupil's dossier is coming close. Log in to see the "
            "request and its deadline."
        ),
    ),
    "rights_viewing_assigned": (
        gettext_lazy("You are asked to be present at a dossier viewing"),
        gettext_lazy(
            "An appointment was made for parents to view a pupil's dossier, and you are named as the staff member "
            "present. Log in to see the appointment and to print the overview."
        ),
    ),
}


LOGIN_CODE_NOTICE = (
    gettext_lazy("Your login code for the parents' portal"),
    gettext_lazy(
        "Your login code for the parents' portal is below. It is valid for 10 minutes and works once. "
        "If you did not ask for it, ignore this message."
    ),
)


def send_login_code(to, code, path, language="nl"):
    """The one message that carries something other than a link: a one-time
    login code, which is a credential, never personal data (R-DIS-6)."""
    if not (isinstance(code, str) and code.isdigit() and len(code) <= 8):
        raise ValueError("a login code is a short string of digits")
    subject, body = LOGIN_CODE_NOTICE
    link = f"{settings.PORTAL_BASE_URL}{path}"
    with translation.override(language):
        footer = _("This message was sent automatically.")
        text = f"{body}\n\n{code}\n\n{link}\n\n-- \n{footer}"
        send_mail(str(subject), text, settings.DEFAULT_FROM_EMAIL, [to])


def send_notice(kind, to, path, language="nl"):
    """Send notice `kind` to the address `to` with a link to `path` in the portal."""
    subject, body = NOTICES[kind]
    link = f"{settings.PORTAL_BASE_URL}{path}"
    with translation.override(language):
        footer = _("This message was sent automatically.")
        text = f"{body}\n\n{link}\n\n-- \n{footer}"
        send_mail(str(subject), text, settings.DEFAULT_FROM_EMAIL, [to])
