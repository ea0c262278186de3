"""Check the audit log's HMAC chain (S-23).

Exits 0 when every row is present and unaltered; exits 1 and names the first
altered or missing row otherwise. The key is AUDIT_HMAC_KEY, which lives outside
the database, so someone who can write the table cannot forge the chain.
"""

from django.core.management.base import BaseCommand, CommandError

from privacy_admin.auditlog import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit 1 naming the first altered or missing row."

    def handle(self, *args, **options):
        ok, message, _checked = verify_chain()
        if not ok:
            raise CommandError(f"audit log NOT intact: {message}", returncode=1)
        self.stdout.write(message)
