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
lets a lock left by a killed worker go stale). What is due is one query for
all categories (`due_by_school`). The due pupils then go in batches of
pupils, each batch one transaction with all its due categories in purge
order: the pupils are checked again (still left, still in term, no hold set
since), then per category the rows of every model go by `pupil = ANY(array)`
(one text parameter per batch, so statements do not grow with the batch),
with a PurgeRecord and an audit event per category: all or nothing. Rows
something else points at are deleted by key with their cascade in SQL
(`_delete`), never loaded into Python. A failure leaves earlier batches
done; the next run's `due()` finds exactly what is left, so a purge resumes
by running again and a second run purges nothing. Records hold counts and
rule descriptions only (R-RET-6).

Progress (U-3). The run's `total` is the number of (pupil, category) pairs
due; each batch adds its pairs to `done` inside its own transaction, so the
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
from django.db import IntegrityError, connection, models, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, Lookup, OuterRef, Q, signals
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
# Pupils per batch (one transaction). A pupil's rows are spread over many
# pages of a table, shared with other pupils' rows, so every batch writes
# pages that earlier batches wrote already: fewer, larger batches write
# less. At 1,000,000 pupils (bench/retention.py) 5,000 a batch took 1.5-2.2
# times as long as one bulk DELETE of the same rows, 50,000 about 1.2 times;
# the process stayed under 200 MB. The nightly job uses this; a purge
# confirmed on the screen uses small batches so its progress bar moves.
BATCH_SIZE = 50_000
NEVER_PURGED = (LegalHold,)


class PurgeLocked(Exception):
    """Another purge holds the lock."""


class AnyOf(Lookup):
    """`column = ANY('{1,2,3}'::bigint[])` on PostgreSQL, `column IN (SELECT
    value FROM json_each('[1,2,3]'))` on SQLite (an `IN` list elsewhere): a
    batch of ids as one text parameter. A list parameter costs Django a resolve and psycopg a dump per
    element, and an `IN` list a placeholder each to prepare and parse: for
    batches of thousands that cost more than the deletes themselves (and
    SQLite caps the placeholders of a statement). The planner still sees the
    values and probes the index. Used as an expression: `qs.filter(any_of("pupil", ids))`."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return self.rhs

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            array_type = self.lhs.output_field.db_type(connection)
            return f"{lhs} = ANY(%s::{array_type}[])", [*params, self.rhs.param(connection)]
        if connection.vendor == "sqlite":
            # `lhs` is the column as Django compiled it; the ids go as a parameter.
            return f"{lhs} IN (SELECT value FROM json_each(%s))", [*params, self.rhs.param(connection)]  # noqa: S608
        if not self.rhs.ids:
            return "1 = 0", params
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs.ids))})", [*params, *self.rhs.ids]


class Ids:
    """A batch of integer ids, the right-hand side of AnyOf: kept whole, so
    Django does not walk it, and written out as an array literal once for
    all the statements of a batch."""

    def __init__(self, ids):
        self.ids = [int(pk) for pk in ids]
        self._literal = None

    def literal(self):
        if self._literal is None:
            self._literal = "{" + ",".join(map(str, self.ids)) + "}"
        return self._literal

    def json(self):
        return "[" + ",".join(map(str, self.ids)) + "]"

    def param(self, connection):
        """The one parameter AnyOf passes for these ids on `connection`."""
        return self.literal() if connection.vendor == "postgresql" else self.json()


def any_of(name, ids):
    """A filter: field `name` (a key or a foreign key) is one of `ids` (an
    iterable of ints, or Ids to reuse one array for many statements)."""
    return AnyOf(F(name), ids if isinstance(ids, Ids) else Ids(ids))


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


# The placeholder school of a compiled due statement (no school has id -1).
SCHOOL_SLOT = Ids([-1])


def _due_query(cutoffs, schools=None):
    """(query, categories): the due query as the ORM builds it for these
    cutoffs, restricted to `schools` (Ids) unless None, and the categories
    of its flag columns in order; (None, []) when no category can be due."""
    flags = {}
    for category in CATEGORIES:
        term = _term_q(cutoffs[category])
        links = category_links(category)
        if term is not None and links:
            flags[category] = (term, _has_data(links, category))
    if not flags:
        return None, []
    base = _manager(pupil_model()).filter(**{f"{LEFT_ON}__isnull": False})
    if schools is not None:
        base = base.filter(any_of("school", schools))
    query = (
        base.filter(reduce(or_, [term for term, _data in flags.values()]))
        .annotate(
            held=_active_hold(),
            # The term first: PostgreSQL stops at a false operand, so the
            # EXISTS probes run only for pupils whose term has passed.
            **{
                f"due_{category}": ExpressionWrapper(term & Q(data), output_field=BooleanField())
                for category, (term, data) in flags.items()
            },
        )
        .order_by()  # sorted by the caller; the pupils' name order would cost a sort
        .values_list("pk", "school_id", "held", *[f"due_{category}" for category in flags])
    ).query
    return query, list(flags)


class _DueStatement:
    """The due query, compiled once per process, database and shape of the
    rules (which categories have a term, for regular and special education),
    with slots for the values that change per call: the cutoff dates and the
    schools. Building its thirty-odd EXISTS probes through the ORM takes
    longer than the database takes to run them for a school, so the screens
    that ask what is due (the retention preview, the admin's home panel, a
    term's preview) would spend most of their time compiling the same SQL.

    The slots are found by compiling the query once with placeholder values
    no real query can hold (dates in the year 1, school id -1) and noting
    where they land among the parameters. Bound, it is exactly what
    `_due_query` compiles for the real values (tests/retention)."""

    def __init__(self, query, names, shape, by_school):
        self.names = names
        self.sql, params = query.get_compiler(connection=connection).as_sql()
        ops = connection.ops
        slots = {
            ops.adapt_datefield_value(day): (category, special)
            for category, by_special in shape.items()
            for special, day in by_special.items()
            if day is not None
        }
        schools = SCHOOL_SLOT.param(connection)
        # Per parameter: ("date", category, special), ("schools",) or ("value", value).
        self.params = [
            ("schools",)
            if by_school and param == schools
            else ("date", *slots[param])
            if isinstance(param, (datetime.date, str)) and param in slots
            else ("value", param)
            for param in params
        ]
        # A slot that was not found would leave a placeholder in the SQL and
        # quietly find nothing due: refuse instead.
        found = {tuple(rest) for kind, *rest in self.params if kind == "date"}
        wanted = {(category, special) for category in names for special, day in shape[category].items() if day}
        if not wanted <= found or (by_school and ("schools",) not in self.params):
            raise RuntimeError("the due query's parameters did not take their placeholders")

    def bind(self, cutoffs, ids):
        """(sql, params, category names of the flag columns) for one call."""
        ops = connection.ops
        params = []
        for kind, *rest in self.params:
            if kind == "schools":
                params.append(Ids(ids).param(connection))
            elif kind == "date":
                category, special = rest
                params.append(ops.adapt_datefield_value(cutoffs[category][special]))
            else:
                params.append(rest[0])
        return self.sql, params, self.names


_DUE_STATEMENTS = {}


def _slot_date(category, special):
    return datetime.date(1, 1, 1) + datetime.timedelta(days=2 * CATEGORIES.index(category) + int(special))


def _due_statement(cutoffs, by_school):
    """The compiled due query for these cutoffs' shape, or None when no
    category can be due."""
    shape = {
        category: {
            special: _slot_date(category, special) if cutoff is not None else None for special, cutoff in by.items()
        }
        for category, by in cutoffs.items()
    }
    key = (
        connection.alias,
        connection.vendor,
        tuple((c, *(d is not None for d in shape[c].values())) for c in CATEGORIES),
        by_school,
    )
    if key not in _DUE_STATEMENTS:
        query, names = _due_query(shape, SCHOOL_SLOT if by_school else None)
        _DUE_STATEMENTS[key] = None if query is None else _DueStatement(query, names, shape, by_school)
    return _DUE_STATEMENTS[key]


def due(as_of, school=None):
    """Per category, the pupils with data of that category due on `as_of`
    (R-RET-5), without pupils under an active legal hold (R-RET-6), who are
    reported in `held`. `school`: a School or its id."""
    school_id = getattr(school, "pk", school)
    reports = due_by_school(as_of, None if school is None else [school_id])
    if school is None:
        return _merged(as_of, reports.values(), _rules())
    return reports[school_id]


def due_by_school(as_of, schools=None):
    """{school id: DueReport} for `schools` (Schools or ids; None: every
    school with a leaver), from one query for all categories and schools:
    per leaver a flag per category (still in term and still holding data)
    and whether a legal hold is active. A screen listing many schools costs
    one query, not one per school and category."""
    rules = _rules()
    cutoffs = _cutoffs(rules, as_of)
    ids = None if schools is None else [getattr(school, "pk", school) for school in schools]
    found = {}
    statement = None if ids == [] else _due_statement(cutoffs, by_school=ids is not None)
    if statement is not None:
        sql, params, names = statement.bind(cutoffs, ids)
        with transaction.atomic():
            _no_jit()
            # Streamed: at national scale the rows would take more memory
            # than the pupil ids kept from them.
            with connection.chunked_cursor() as cursor:
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(5000):
                    for pk, school_id, is_held, *due_flags in rows:
                        per_school = found.setdefault(school_id, ({}, {}))
                        for category, flag in zip(names, due_flags, strict=True):
                            if flag:
                                per_school[1 if is_held else 0].setdefault(category, []).append(pk)
    descriptions = _descriptions(rules)
    reports = {}
    for school_id in found if ids is None else ids:
        pupils, held = found.get(school_id, ({}, {}))
        reports[school_id] = DueReport(
            as_of=as_of,
            pupils={category: sorted(pupils.get(category, [])) for category in CATEGORIES},
            held=sorted({pk for pks in held.values() for pk in pks}),
            rules=descriptions,
            held_by_category={category: sorted(held.get(category, [])) for category in CATEGORIES},
        )
    return reports


def _merged(as_of, reports, rules):
    """One DueReport for all of `reports` (schools do not share pupils)."""
    pupils = {category: [] for category in CATEGORIES}
    held_by_category = {category: [] for category in CATEGORIES}
    held = []
    for report in reports:
        held += report.held
        for category in CATEGORIES:
            pupils[category] += report.pupils[category]
            held_by_category[category] += report.held_by_category[category]
    return DueReport(
        as_of=as_of,
        pupils={category: sorted(ids) for category, ids in pupils.items()},
        held=sorted(held),
        rules=_descriptions(rules),
        held_by_category={category: sorted(ids) for category, ids in held_by_category.items()},
    )


def _descriptions(rules):
    return {
        category: {condition: rule.description for (cat, condition), rule in rules.items() if cat == category}
        for category in CATEGORIES
    }


def _no_jit():
    """Settings for the due query's transaction on PostgreSQL. jit off: the
    query's cost estimates are large, so PostgreSQL would compile it first,
    which takes longer than running it. cursor_tuple_fraction 1: the rows are
    streamed through a cursor, and the whole result is wanted, not the first
    rows fast (the planner would pick nested loops over the hash join)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")


def _batch_settings():
    """PostgreSQL settings for one batch's transaction (SET LOCAL: they end
    with it).

    enable_seqscan off: every statement of a batch selects by an index (a
    pupil link, a key). Costing one batch alone, the planner would rather
    read a whole table of one row per pupil than probe the index 5,000
    times; repeated for every batch that makes the purge grow with the
    number of pupils times the number of batches, i.e. quadratically.

    synchronous_commit off: a batch's commit need not wait for its WAL to
    reach the disk. A crash can lose only the last batches whole, never part
    of one, with their deletion record and audit event, and the next run
    (or the sweep of stalled runs) purges those pupils again."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL synchronous_commit = off")


def _anchor():
    """(model, pupil link attname) of the row holding the unenrolment date."""
    relation = pupil_model()._meta.get_field(LEFT_ON.split("__")[0])
    return relation.related_model, relation.field.attname


def _still_due(pupil_ids, cutoffs):
    """{category: [pupil ids]}: of `pupil_ids`, those still left, still in
    the category's term and not under a hold set since (R-RET-6), read in
    one query by the anchor rows (the enrolments, one index probe per
    pupil), so the cost follows the batch, not the table. Whether they still
    hold data was settled by due() under the same lock; a pupil with nothing
    left simply deletes no rows."""
    model, link = _anchor()
    left_on, destination = LEFT_ON.split("__")[1], DESTINATION.split("__")[1]
    rows = (
        _manager(model)
        .filter(any_of(link, pupil_ids), **{f"{left_on}__isnull": False})
        .exclude(Exists(LegalHold.objects.filter(pupil=OuterRef(link), lifted_at__isnull=True)))
        .values_list(link, left_on, destination)
    )
    still = {category: [] for category in CATEGORIES}
    for pk, left, dest in rows:
        special = dest == SPECIAL
        for category in CATEGORIES:
            cutoff = cutoffs[category][special]
            if cutoff is not None and left <= cutoff:
                still[category].append(pk)
    return still


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
            # EXISTS per row, not `pk IN (every row pointing here)`: the
            # planner may then probe the index for the batch's rows instead
            # of reading every consent scan once per batch.
            kept |= Q(Exists(_manager(related).filter(**{field: OuterRef("pk")})))
    return kept


def _reverse_links(model):
    # include_hidden: links with related_name="+" (a consent answer's scan) count too.
    fields = model._meta.get_fields(include_hidden=True)
    return [
        f
        for f in fields
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one) and f.related_model is not model
    ]


def _link_any(fields, ids):
    return reduce(or_, [Q(any_of(name, ids)) for name in fields])


def purge_batch(category, pupil_ids):
    """Delete the rows of `category` of these pupils; the number of rows
    removed (cascades included). Call inside a transaction."""
    rows = 0
    batch, ids = set(pupil_ids), Ids(pupil_ids)
    for kind, model, fields in category_links(category):
        doomed = _manager(model).filter(_link_any(fields, ids))
        if kind == "fk":
            doomed = doomed.exclude(_kept_by_other_categories(model, category))
        if not _reverse_links(model) and not _needs_collector(model):
            rows += doomed._raw_delete(doomed.db)  # nothing points here: one DELETE
        else:
            rows += _delete(model, list(doomed.order_by().values_list("pk", flat=True)), category, batch)
    return rows


def _needs_collector(model):
    """Django's own delete where its semantics need it: signal receivers, or
    an on_delete other than CASCADE, SET_NULL or DO_NOTHING."""
    return (
        signals.pre_delete.has_listeners(model)
        or signals.post_delete.has_listeners(model)
        or any(
            rel.on_delete not in (models.CASCADE, models.SET_NULL, models.DO_NOTHING) for rel in _reverse_links(model)
        )
    )


def _delete(model, pks, category, batch):
    """Delete the rows `pks` of `model` and their cascade, in SQL by key: no
    row is loaded into Python (Django's collector would load them, decrypting
    every text and document of the batch for nothing, and delete 100 per
    statement). Dependents that must stay (another pupil's record, or one
    another category still points at) are detached when their link may be
    empty, else their parent stays (S-26, R-RET-6). Returns the rows
    deleted, cascades included."""
    if not pks:
        return 0
    manager = _manager(model)
    cascades = []
    for rel in _reverse_links(model):
        if rel.on_delete is not models.CASCADE:
            continue
        related, link = rel.related_model, rel.field.attname
        pupils = [related._meta.get_field(name).attname for name in _pupil_fk_names(related)]
        dependents = list(_manager(related).filter(any_of(link, pks)).order_by().values_list("pk", link, *pupils))
        if not dependents:
            continue
        # Another pupil's record (no link to this batch) stays.
        staying = {pk for pk, _parent, *owners in dependents if owners and not batch.intersection(owners)}
        staying.update(
            _manager(related)
            .filter(any_of("pk", [pk for pk, *_rest in dependents]))
            .filter(_kept_by_other_categories(related, category))
            .values_list("pk", flat=True)
        )
        if staying and rel.field.null:
            _manager(related).filter(any_of("pk", sorted(staying))).update(**{link: None})
        elif staying:
            kept = {parent for pk, parent, *_owners in dependents if pk in staying}
            pks = [pk for pk in pks if pk not in kept]
        cascades.append((related, [(pk, parent) for pk, parent, *_owners in dependents if pk not in staying]))
    if _needs_collector(model):
        return manager.filter(any_of("pk", pks)).only("pk").delete()[0]
    alive = set(pks)
    deleted = 0
    for related, dependents in cascades:
        deleted += _delete(related, [pk for pk, parent in dependents if parent in alive], category, batch)
    for rel in _reverse_links(model):
        if rel.on_delete is models.SET_NULL:
            _manager(rel.related_model).filter(any_of(rel.field.attname, pks)).update(**{rel.field.attname: None})
    doomed = manager.filter(any_of("pk", pks))
    return deleted + doomed._raw_delete(doomed.db)


def _progress(run, pupils):
    """Count a batch as handled; called inside the batch's transaction, so the
    progress shown is what is committed (a rolled-back batch counts nothing)."""
    PurgeRun.objects.filter(pk=run.pk).update(done=F("done") + pupils, progress_at=timezone.now())


def purge(as_of, *, school=None, acting_user=None, dry_run=False, batch_size=BATCH_SIZE, run=None):
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
    order = _purge_order()
    rules = {category: _rule_text(report, category) for category in order}
    # {pupil id: bit mask of the categories due}: smaller than a set per category.
    due_mask = {}
    for bit, category in enumerate(order):
        for pk in report.pupils[category]:
            due_mask[pk] = due_mask.get(pk, 0) | (1 << bit)
    report = None  # the lists can go; the counts are in `result`
    everyone = sorted(due_mask)
    category = None
    try:
        # A batch is a set of pupils with all their due categories, in one
        # transaction: one re-check, one progress update and one commit per
        # batch, however many categories are due.
        for start in range(0, len(everyone), batch_size):
            chunk = everyone[start : start + batch_size]
            _heartbeat(token)
            done_now = {}
            with transaction.atomic():
                _batch_settings()
                _progress(run, sum(due_mask[pk].bit_count() for pk in chunk))
                # Checked again inside the batch: still left, still due,
                # and no hold set since (R-RET-6).
                still = _still_due(chunk, cutoffs)
                for bit, category in enumerate(order):
                    batch = sorted(pk for pk in still[category] if due_mask[pk] >> bit & 1)
                    if not batch:
                        continue
                    rows = purge_batch(category, batch)
                    if not rows:
                        continue
                    PurgeRecord.objects.create(
                        run=run,
                        category=category,
                        rule=rules[category],
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
                        details={"category": category, "rule": rules[category], "pupils": len(batch), "rows": rows},
                    )
                    done_now[category] = len(batch)
            for name, pupils in done_now.items():
                purged[name] += pupils
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
