"""The roles of the authorisation matrix and helpers to write its rows."""

ROLES = ("director_a", "app_admin_a", "teacher_a", "substitute_a", "support_a", "teacher_b", "fg")
FULL_A = {"director_a", "app_admin_a", "teacher_a"}
DOSSIER_ROLES = FULL_A | {"substitute_a", "support_a", "teacher_b"}


def only(allowed, ok=200, deny=404):
    return {role: ok if role in allowed else deny for role in ROLES}


def every(status):
    return dict.fromkeys(ROLES, status)
