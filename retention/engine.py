"""The retention engine: what is due, and the purge (R-RET-1..6, S-26, S-27).

Finding the data. Every record model declares `retention_category`
(privacy_admin.records); the engine takes the models linked to a pupil from
Django's app registry (`pupil_linked_models()`), so it imports no app. The
Pupil row itself is contact data and is never deleted; LegalHold rows are
never purged (they explain why a purge did not happen). For a many-to-many
link (Assignment.pupils) the pupil is taken out of the relation; the other
row stays.

The arithmetic (R-RET-5). A term counts from the unenrolment date: data is
due on the day after `left_on + term`, and on that day itself. Pupils
without an unenrolment date are never due. A rule with condition "special"
replaces the category's rule for pupils who left for special education.
The unenrolment date lives in an enrolment-category row, so that category
is purged last and no earlier than every other category of the pupil:
otherwise a shorter enrolment term configured later would erase the date
the other terms are counted from.

The purge (S-27). One database lock (a conditional UPDATE on a single
RetentionLock row, atomic on SQLite and PostgreSQL; a heartbeat per batch
lets a lock left by a killed worker go stale). Per category, the due pupils
in batches; each batch deletes the rows of every model of that category with
`pupil__in=batch` (queries per batch do not grow with the batch) and writes
its PurgeRecord and audit event in one transaction: all or nothing. A
failure leaves earlier batches done; the next run's `due()` finds exactly
what is left, so a purge resumes by running again and a second run purges
nothing. Records hold counts and rule descriptions only (R-RET-6).

Progress (U-3). The run's `total` is the number of (pupil, category) pairs
due; each batch adds its pupils to `done` inside its own transaction, so the
screen's progress bar shows exactly what is committed, one constant UPDATE
per batch.
"""

import calendar
import dataclasses
import datetime
import uuid
from functools import reduce
from operator import or_

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from privacy_admin.auditlog import audit_record
from privacy_admin.records import RetentionCategory, pupil_linked_models, retention_category_of
from retention.models import LegalHold, PurgeRecord, PurgeRun, RetentionLock, RetentionRule

CATEGORIES = list(RetentionCategory.values)
SPECIAL = RetentionRule.Condition.SPECIAL
# Where the unenrolment date and destination sit, seen from the pupil.
LEFT_ON = "enrolment__left_on"
DESTINATION = "enrolment__destination"
LOCK_STALE_AFTER = datetime.timedelta(minutes=15)
NEVER_PURGED = (LegalHold,)


class PurgeLocked(Exception):
    """Another purge holds the lock."""


# --- arithmetic ----------------------------------------------------------------


def add_months(day, months):
    """`day` plus `months`, clamped to the month's last day (29 Feb + 1 year
    is 28 Feb)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return datetime.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def due_date(left_on, rule):
    """The first day on which data under `rule` is due, or None (permanent,
    no rule, or not unenrolled). R-RET-5: left 2023-07-31, 2 years → 2025-08-01."""
    if rule is None or rule.permanent or left_on is None:
        return None
    return add_months(left_on, rule.total_months) + datetime.timedelta(days=1)


def _last_due_left_on(as_of, months):
    """The latest unenrolment date whose data under a `months` term is due on
    `as_of`: due_date(left_on) <= as_of, i.e. add_months(left_on) < as_of.
    Lets the database filter on `left_on <= cutoff`."""
    one_day = datetime.timedelta(days=1)
    cutoff = add_months(as_of, -months)
    while add_months(cutoff, months) >= as_of:
        cutoff -= one_day
    while add_months(cutoff + one_day, months) < as_of:
        cutoff += one_day
    return cutoff


# --- the models ----------------------------------------------------------------


def pupil_model():
    return apps.get_model("students", "Pupil")


def _anchor_category():
    """The category of the row holding the unenrolment date."""
    field = pupil_model()._meta.get_field(LEFT_ON.split("__")[0])
    return retention_category_of(field.related_model)


def category_links(category):
    """[(kind, model, field names)] for every link from a model of `category`
    to the pupil: ("fk", model, [fk names]) or ("m2m", through model, [name])."""
    pupil = pupil_model()
    links = []
    for model in pupil_linked_models():
        if model is pupil or model in NEVER_PURGED or retention_category_of(model) != category:
            continue
        fks = []
        for field in model._meta.get_fields():
            if not (field.concrete and field.is_relation and field.related_model is pupil):
                continue
            if field.many_to_many:
                links.append(("m2m", field.remote_field.through, [field.m2m_reverse_field_name()]))
            else:
                fks.append(field.name)
        if fks:
            links.append(("fk", model, fks))
    return links


def _link_q(fields, value_lookup, value):
    return reduce(or_, [Q(**{f"{name}{value_lookup}": value}) for name in fields])


def _manager(model):
    return model._base_manager


# --- what is due ---------------------------------------------------------------


@dataclasses.dataclass
class DueReport:
    as_of: datetime.date
    pupils: dict  # category -> sorted pupil ids due (held pupils left out)
    held: list  # pupil ids with something due but under an active legal hold
    rules: dict  # category -> {"": description, "special": description}
    # category -> sorted held pupil ids that would be due in it (the screen's drill-down)
    held_by_category: dict = dataclasses.field(default_factory=dict)

    def counts(self):
        return {category: len(self.pupils.get(category, [])) for category in CATEGORIES}


def _rules():
    return {(rule.category, rule.condition): rule for rule in RetentionRule.objects.all()}


def _rule_for(rules, category, special):
    if special and (category, SPECIAL) in rules:
        return rules[(category, SPECIAL)]
    return rules.get((category, ""))


def _cutoffs(rules, as_of):
    """{category: {False: cutoff, True: cutoff}} (True = left for special
    education); None where nothing is ever due."""
    cutoffs = {}
    for category in CATEGORIES:
        cutoffs[category] = {}
        for special in (False, True):
            rule = _rule_for(rules, category, special)
            cutoffs[category][special] = (
                None if rule is None or rule.permanent else _last_due_left_on(as_of, rule.total_months)
            )
    anchor = _anchor_category()
    if anchor in cutoffs:
        for special in (False, True):
            if cutoffs[anchor][special] is None:
                continue
            others = [cutoffs[c][special] for c in CATEGORIES if cutoffs[c][special] is not None]
            cutoffs[anchor][special] = min(others)
    return cutoffs


def _term_q(cutoff):
    branches = []
    if cutoff[False] is not None:
        branches.append(Q(**{f"{LEFT_ON}__lte": cutoff[False]}) & ~Q(**{DESTINATION: SPECIAL}))
    if cutoff[True] is not None:
        branches.append(Q(**{f"{LEFT_ON}__lte": cutoff[True], DESTINATION: SPECIAL}))
    return reduce(or_, branches) if branches else None


def due_dates(left_on, special, rules=None):
    """{category: the first day its data is due} for a pupil who left on
    `left_on` (`special`: for special education), counted as `due()` counts
    it, including the unenrolment date going last; None where never. The
    screen's drill-down shows these."""
    rules = _rules() if rules is None else rules
    dates = {category: due_date(left_on, _rule_for(rules, category, special)) for category in CATEGORIES}
    anchor = _anchor_category()
    if dates.get(anchor) is not None:
        dates[anchor] = max(day for day in dates.values() if day is not None)
    return dates


def _has_data(links, category=None):
    """The pupil still has rows of the category that a purge would remove
    (rows another category still points at do not count)."""
    exists = []
    for kind, model, fields in links:
        rows = _manager(model).filter(_link_q(fields, "", OuterRef("pk")))
        if kind == "fk" and category is not None:
            rows = rows.exclude(_kept_by_other_categories(model, category))
        exists.append(Exists(rows))
    return reduce(or_, exists)


def _active_hold():
    return Exists(LegalHold.objects.filter(pupil=OuterRef("pk"), lifted_at__isnull=True))


def due(as_of, school=None):
    """Per category, the pupils with data of that category due on `as_of`
    (R-RET-5), without pupils under an active legal hold (R-RET-6), who are
    reported in `held`. `school`: a School or its id."""
    rules = _rules()
    cutoffs = _cutoffs(rules, as_of)
    base = _manager(pupil_model()).filter(**{f"{LEFT_ON}__isnull": False})
    if school is not None:
        base = base.filter(school=school)
    pupils, held, held_by_category = {}, set(), {}
    for category in CATEGORIES:
        term = _term_q(cutoffs[category])
        links = category_links(category)
        if term is None or not links:
            pupils[category] = []
            held_by_category[category] = []
            continue
        rows = (
            base.filter(term).filter(_has_data(links, category)).annotate(held=_active_hold()).values_list("pk", "held")
        )
        pupils[category] = sorted(pk for pk, is_held in rows if not is_held)
        held_by_category[category] = sorted(pk for pk, is_held in rows if is_held)
        held.update(held_by_category[category])
    descriptions = {
        category: {condition: rule.description for (cat, condition), rule in rules.items() if cat == category}
        for category in CATEGORIES
    }
    return DueReport(
        as_of=as_of, pupils=pupils, held=sorted(held), rules=descriptions, held_by_category=held_by_category
    )


# --- the lock ------------------------------------------------------------------


def take_lock():
    """Claim the single purge lock or raise PurgeLocked (S-27)."""
    try:
        with transaction.atomic():
            RetentionLock.objects.get_or_create(pk=1)
    except IntegrityError:  # created at the same moment by another run
        pass
    now = timezone.now()
    token = uuid.uuid4().hex
    free = Q(holder="") | Q(heartbeat_at__lt=now - LOCK_STALE_AFTER)
    if RetentionLock.objects.filter(free, pk=1).update(holder=token, heartbeat_at=now) != 1:
        raise PurgeLocked
    return token


def _heartbeat(token):
    if RetentionLock.objects.filter(pk=1, holder=token).update(heartbeat_at=timezone.now()) != 1:
        # We went stale and another run took over: stop, it finishes the job.
        raise PurgeLocked


def release_lock(token):
    RetentionLock.objects.filter(pk=1, holder=token).update(holder="", heartbeat_at=None)


# --- the purge -----------------------------------------------------------------


@dataclasses.dataclass
class PurgeResult:
    as_of: datetime.date
    due: dict
    purged: dict
    held: int
    run_id: int | None = None

    def as_json(self):
        return {"as_of": self.as_of.isoformat(), "due": self.due, "purged": self.purged, "held": self.held}


def _referencing_categories(category):
    """Other categories whose rows point at rows of `category`."""
    found = set()
    for _kind, model, _fields in category_links(category):
        for rel in _reverse_links(model):
            other = retention_category_of(rel.related_model)
            if other not in (None, category):
                found.add(other)
    return found


def _purge_order():
    """Categories whose rows point at others' rows go first (a consent answer
    before the scan it keeps), so a full run leaves nothing behind; the anchor
    category (holding the unenrolment date) last: a run that stops halfway
    still knows every pupil's date."""
    anchor = _anchor_category()
    remaining = [c for c in CATEGORIES if c != anchor]
    order = []
    while remaining:
        ready = [c for c in remaining if not (_referencing_categories(c) & set(remaining))]
        pick = ready[0] if ready else remaining[0]
        order.append(pick)
        remaining.remove(pick)
    return order + [c for c in CATEGORIES if c == anchor]


def _rule_text(report, category):
    texts = report.rules.get(category, {})
    return "; ".join(texts[key] for key in sorted(texts))[:200]


def _pupil_fk_names(model):
    pupil = pupil_model()
    return [
        f.name
        for f in model._meta.get_fields()
        if f.concrete and f.is_relation and not f.many_to_many and f.related_model is pupil
    ]


def _kept_by_other_categories(model, category):
    """Rows of `model` that another category still points at: a consent
    answer's scan is evidence for as long as the consent history is kept."""
    kept = Q(pk__in=[])
    for rel in _reverse_links(model):
        related, field = rel.related_model, rel.field.name
        if retention_category_of(related) not in (None, category):
            kept |= Q(pk__in=_manager(related).filter(**{f"{field}__isnull": False}).values(field))
    return kept


def _reverse_links(model):
    # include_hidden: links with related_name="+" (a consent answer's scan) count too.
    fields = model._meta.get_fields(include_hidden=True)
    return [
        f
        for f in fields
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one) and f.related_model is not model
    ]


def _spare_dependents(model, rows, category, pupil_ids):
    """Before `rows` go, rows that would go with them by cascade but must stay
    (another pupil's record, or one another category still points at) are
    detached when their link may be empty; otherwise their parent stays.
    Returns the rows that may be deleted (S-26, R-RET-6)."""
    for rel in _reverse_links(model):
        if rel.on_delete is not models.CASCADE:
            continue
        related, field = rel.related_model, rel.field
        dependents = _manager(related).filter(**{f"{field.name}__in": rows.values("pk")})
        must_stay = _kept_by_other_categories(related, category)
        if _pupil_fk_names(related):
            must_stay |= ~_link_q(_pupil_fk_names(related), "__in", pupil_ids)
        staying = dependents.filter(must_stay)
        if field.null:
            staying.update(**{field.name: None})
        else:
            rows = rows.exclude(pk__in=staying.values(field.name))
    return rows


def purge_batch(category, pupil_ids):
    """Delete the rows of `category` of these pupils; the number of rows
    removed (cascades included). Call inside a transaction."""
    rows = 0
    for kind, model, fields in category_links(category):
        doomed = _manager(model).filter(_link_q(fields, "__in", pupil_ids))
        if kind == "fk":
            doomed = _spare_dependents(
                model, doomed.exclude(_kept_by_other_categories(model, category)), category, pupil_ids
            )
        deleted, _per_model = doomed.delete()
        rows += deleted
    return rows


def _progress(run, pupils):
    """Count a batch as handled; called inside the batch's transaction, so the
    progress shown is what is committed (a rolled-back batch counts nothing)."""
    PurgeRun.objects.filter(pk=run.pk).update(done=F("done") + pupils, progress_at=timezone.now())


def purge(as_of, *, school=None, acting_user=None, dry_run=False, batch_size=200, run=None):
    """Purge what is due on `as_of` (R-RET-1..6, S-27). With `dry_run`, only
    report. Raises PurgeLocked when another purge is running. `run`: the
    PurgeRun a confirmation on the screen queued for this purge (U-3); without
    it the run is created here. Either way the run is filled in only once the
    lock is held, and its `done` counts up per batch towards `total`."""
    if dry_run:
        report = due(as_of, school=school)
        return PurgeResult(as_of=as_of, due=report.counts(), purged=dict.fromkeys(CATEGORIES, 0), held=len(report.held))
    school_id = getattr(school, "pk", school)
    # The lock first, then what is due: a list made before the lock could be
    # stale (a pupil re-enrolled, another run already purged them).
    token = take_lock()
    try:
        report = due(as_of, school=school)
        purged = dict.fromkeys(CATEGORIES, 0)
        result = PurgeResult(as_of=as_of, due=report.counts(), purged=purged, held=len(report.held))
        now = timezone.now()
        fields = {
            "started_at": now,
            "as_of": as_of,
            "school_id": school_id,
            "by": acting_user,
            "status": PurgeRun.Status.RUNNING,
            "counts": result.as_json(),
            "total": sum(result.due.values()),
            "done": 0,
            "progress_at": now,
        }
        if run is None:
            run = PurgeRun.objects.create(**fields)
        else:
            for name, value in fields.items():
                setattr(run, name, value)
            run.save(update_fields=[name if name != "school_id" else "school" for name in fields])
    except BaseException:
        release_lock(token)
        raise
    result.run_id = run.pk
    cutoffs = _cutoffs(_rules(), as_of)
    category = None
    try:
        for category in _purge_order():
            ids = report.pupils[category]
            rule = _rule_text(report, category)
            for start in range(0, len(ids), batch_size):
                chunk = ids[start : start + batch_size]
                _heartbeat(token)
                with transaction.atomic():
                    _progress(run, len(chunk))
                    # Checked again inside the batch: still left, still due,
                    # still holding data, and no hold set since (R-RET-6).
                    batch = list(
                        _manager(pupil_model())
                        .filter(pk__in=chunk, **{f"{LEFT_ON}__isnull": False})
                        .filter(_term_q(cutoffs[category]))
                        .filter(_has_data(category_links(category), category))
                        .exclude(_active_hold())
                        .values_list("pk", flat=True)
                    )
                    if not batch:
                        continue
                    rows = purge_batch(category, batch)
                    if not rows:
                        continue
                    PurgeRecord.objects.create(
                        run=run,
                        category=category,
                        rule=rule,
                        pupils=len(batch),
                        rows=rows,
                        at=timezone.now(),
                        by=acting_user,
                    )
                    audit_record(
                        "retention_purge",
                        actor=acting_user,
                        actor_label="retention",
                        object_type="retention.purgerun",
                        object_id=run.pk,
                        school_id=school_id,
                        details={"category": category, "rule": rule, "pupils": len(batch), "rows": rows},
                    )
                purged[category] += len(batch)
    except Exception as exc:
        run.status = PurgeRun.Status.FAILED
        run.error = type(exc).__name__
        run.failed_category = category or ""
        run.finished_at = timezone.now()
        run.counts = result.as_json()
        run.save(update_fields=["status", "error", "failed_category", "finished_at", "counts"])
        raise
    finally:
        release_lock(token)
    run.status = PurgeRun.Status.DONE
    run.finished_at = timezone.now()
    run.counts = result.as_json()
    run.save(update_fields=["status", "finished_at", "counts"])
    return result
