"""Check the audit log's HMAC chain (S-23).

Exits 0 when every row is present and unaltered; exits 1 and names the first
altered or missing row otherwise. The key is AUDIT_HMAC_KEY, which lives outside
the database, so someone who can write the table cannot forge the chain.

Once the audit log's retention term has removed its oldest rows, the walk
starts after the last checkpoint (each checkpoint signed and chained to the
one before, see privacy_admin/auditlog.py): what is left is proved the same
way, and a row removed other than by the purge is still named as missing.
"""

from django.core.management.base import BaseCommand, CommandError

from privacy_admin.auditlog import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain, starting after the checkpoints the retention term left; "
        "exit 1 naming the first altered or missing row (or checkpoint)."
    )

    def handle(self, *args, **options):
        ok, message, _checked = verify_chain()
        if not ok:
            raise CommandError(f"audit log NOT intact: {message}", returncode=1)
        self.stdout.write(message)
