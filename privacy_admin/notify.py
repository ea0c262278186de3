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
