"""Re-encrypt every encrypted value under the first key of
FIELD_ENCRYPTION_KEYS (S-25).

Put the new key first in FIELD_ENCRYPTION_KEYS, keep the old one after it, run
this command, and once it reports nothing left under old keys the old key can be
removed. Rows are rewritten in batches, each batch in its own transaction, so an
interrupted run can simply be started again.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from privacy_admin.crypto import encrypted_fields, key_id_of, primary_key_id


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields under the first FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count values under old keys.")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--rehash",
            action="store_true",
            help="Also recompute the keyed BSN look-up hashes (after LOOKUP_HASH_KEY changed).",
        )

    def handle(self, *args, dry_run=False, batch_size=500, rehash=False, **options):
        primary = primary_key_id()
        total = 0
        for model, field in encrypted_fields():
            table = connection.ops.quote_name(model._meta.db_table)
            column = connection.ops.quote_name(field.column)
            pk = connection.ops.quote_name(model._meta.pk.column)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {column} FROM {table}")  # noqa: S608 - names from the model
                stale = [row[0] for row in cursor.fetchall() if row[1] and key_id_of(row[1]) != primary]
            total += len(stale)
            self.stdout.write(f"{model._meta.label}.{field.name}: {len(stale)} under old keys")
            if dry_run:
                continue
            for start in range(0, len(stale), batch_size):
                with transaction.atomic():
                    objs = list(model.objects.filter(pk__in=stale[start : start + batch_size]).only("pk", field.name))
                    model.objects.bulk_update(objs, [field.name])
        verb = "found" if dry_run else "re-encrypted"
        self.stdout.write(f"{total} values {verb}; current key is {primary!r}")
        if rehash and not dry_run:
            self._rehash(batch_size)

    def _rehash(self, batch_size):
        """Models that keep a BSN with a look-up hash say so with `set_bsn`;
        the core knows them only by that duck type."""
        for model, _field in encrypted_fields():
            if _field.name != "bsn" or not hasattr(model, "set_bsn"):
                continue
            ids = list(model.objects.values_list("pk", flat=True))
            for start in range(0, len(ids), batch_size):
                with transaction.atomic():
                    objs = list(model.objects.filter(pk__in=ids[start : start + batch_size]).only("pk", "bsn"))
                    for obj in objs:
                        obj.set_bsn(obj.bsn)
                    model.objects.bulk_update(objs, ["bsn_hash"])
            self.stdout.write(f"{model._meta.label}: {len(ids)} look-up hashes recomputed")
