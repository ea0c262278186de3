"""Every periodic job, in one place. Each entry says when and why; each job
is idempotent (S-28), since beat may fire twice, and has a time limit."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Nightly at 03:10: drop expired sessions and login failures older than the
    # counting window. Nothing to keep: sessions are credentials and failures
    # only count inside their window (S-2).
    "security-housekeeping": {
        "task": "privacy_admin.tasks.security_housekeeping",
        "schedule": crontab(hour=3, minute=10),
        "options": {"expires": 3600, "time_limit": 600},
    },
    # Daily at 02:50: anchor the audit log, copying the chain head's position
    # into the job record and the worker's log, so a log emptied or cut short
    # later fails verify_audit_log (S-23). A few queries; the limit is generous.
    "audit-anchor": {
        "task": "privacy_admin.tasks.audit_anchor",
        "schedule": crontab(hour=2, minute=50),
        "options": {"expires": 3600, "time_limit": 120},
    },
    # Every hour: end memberships that expired (temporary teachers, R-ACC-2)
    # by ending the sessions of people who no longer hold any current role.
    # Access itself stops at once on the next request (S-14); this makes it
    # visible in the audit log.
    "expired-memberships": {
        "task": "privacy_admin.tasks.expired_memberships",
        "schedule": crontab(minute=5),
        "options": {"expires": 1800, "time_limit": 300},
    },
    # Nightly at 03:25: remove used and expired login codes of the parents'
    # portal; they hold an e-mail address and are worthless after 10 minutes.
    "consent-purge-login-codes": {
        "task": "consent.tasks.purge_parent_login_codes",
        "schedule": crontab(hour=3, minute=25),
        "options": {"expires": 3600, "time_limit": 300},
    },
    # Every hour at :20: record assignments and involvements whose end date
    # passed (R-ACC-2, R-ACC-3) and remove the guardian permission of expired
    # involvements. The policy refuses them from the next request on (S-14);
    # this puts the end in the audit log and cleans the permission rows.
    "expire-grants": {
        "task": "students.tasks.expire_grants",
        "schedule": crontab(minute=20),
        "options": {"expires": 1800, "time_limit": 300},
    },
    # Daily at 07:30: the yearly reminder to parents that they can change
    # their privacy preferences at any moment (R-CON-3). It goes out on the
    # first run on or after each school's reminder date (default 1 September),
    # before the school day starts; reminder rows make it once per parent per
    # school year (S-28), and parents added later get theirs the next morning.
    "consent-yearly-reminder": {
        "task": "consent.tasks.send_yearly_reminders",
        "schedule": crontab(hour=7, minute=30),
        "options": {"expires": 3600, "time_limit": 1800},
    },
    # Every 15 minutes: escalate data breaches without a decision at 24, 48
    # and 60 hours after awareness (FG, deputy, bestuurder), ahead of the
    # AP's 72-hour deadline (R-BRK-2). Each step is a unique row per breach,
    # so it is sent once however often beat fires (S-28).
    "breach-escalation": {
        "task": "breaches.tasks.escalate_breaches",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 600, "time_limit": 300},
    },
    # Daily at 07:40, before the school day: warn the director 7 and 2 days
    # before the deadline of an open parents' request (one month from receipt,
    # R-RGT-3). Each warning is claimed by a conditional UPDATE before it is
    # mailed, so it goes out once however often beat fires (S-28).
    "rights-deadline-warnings": {
        "task": "disclosures.rights.tasks.warn_request_deadlines",
        "schedule": crontab(hour=7, minute=40),
        "options": {"expires": 3600, "time_limit": 300},
    },
    # Every 10 minutes: the outbox of confirmed purges (retention.tasks). A
    # run the broker never delivered (Redis was down at the confirmation,
    # S-29) or whose worker died mid-purge (S-27) is carried out once it has
    # stalled for 15 minutes; the run's claim makes it happen once (S-28).
    # Usually finds nothing and records nothing. A purge takes hours at most.
    "retention-resume-stalled": {
        "task": "retention.tasks.resume_stalled_purges",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 600, "time_limit": 4 * 3600},
    },
    # Nightly at 01:30, before the other housekeeping: the retention purge
    # (R-RET-6). Schools in "automatic" mode are purged in batches; for the
    # others the job record only proposes what is due. Then audit events older
    # than AUDIT_RETENTION_YEARS go, behind a checkpoint. Idempotent: a second
    # run finds nothing left, and a database lock keeps purges apart (S-27).
    # A run stopped by the limit is finished by the next night's run.
    "retention-nightly": {
        "task": "retention.tasks.nightly_retention",
        "schedule": crontab(hour=1, minute=30),
        "options": {"expires": 3600, "time_limit": 4 * 3600},
    },
}
