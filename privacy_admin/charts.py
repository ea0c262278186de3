"""Bar and stacked-bar charts as plain geometry, drawn on the server as SVG by
templates/charts/bars.html: no JavaScript and no chart library.

A chart is read three ways, so no one depends on colour or on seeing it: the
SVG (role="img", with a <title> and a <desc> that says what it shows and the
totals), a legend in words, and a table with exactly the same numbers, each
linking to the list behind it where the caller gives a link (S-12). The
caller decides what is counted and for whom; this module only does the
arithmetic of the drawing.

    chart = bar_chart(
        chart_id="chart-disclosures",
        title="Disclosures per month",
        description="Disclosures made per month, by legal basis.",
        categories=[("2026-10", "Oct 2026"), ("2026-11", "Nov 2026")],
        series=[("consent", "Consent"), ("legal_obligation", "Legal obligation")],
        values={("2026-11", "consent"): 3},
        links={("2026-11", "consent"): "/verstrekkingen/?month=2026-11&basis=consent"},
    )

Vertical bars suit a time axis (months); horizontal bars suit named rows
(groups, categories) whose labels need room. `percent=True` draws every bar
as the shares of its own total (100 % stacked); the table still shows the
counts.
"""

import datetime
import math
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

# Drawing units of the viewBox; the SVG scales to its container, so a chart
# meant for half a card (two side by side) is drawn narrower, which keeps its
# text as large as that of a full-width chart.
WIDTH = 640
HALF_WIDTH = 360
VERTICAL_HEIGHT = 260
ROW_HEIGHT = 24
ROW_GAP = 8
MARGIN_TOP = 12
MARGIN_RIGHT = 16
MARGIN_LEFT_VERTICAL = 48
MARGIN_LEFT_HORIZONTAL = 150
MARGIN_BOTTOM_VERTICAL = 52
MARGIN_BOTTOM_HORIZONTAL = 38
PALETTE_SIZE = 8
# Above this many bars, only every n-th category label is written under the
# axis (the table names them all).
# Roughly how wide a character of an axis label is, to write only as many
# labels under a vertical chart as fit (the table names them all).
LABEL_CHAR_WIDTH = 6.5
# A per cent sign that stays on the line of its number.
PERCENT = "\u00a0%"
# Row labels of horizontal charts longer than this are shortened in the SVG.
SHORT_LABEL = 22


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    css: str


@dataclass(frozen=True)
class Segment:
    series: Series
    value: float
    x: float
    y: float
    width: float
    height: float
    href: str = ""

    @property
    def text(self):
        return format_number(self.value)


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    # The label as written beside the bar (horizontal charts) or in two lines
    # under it (vertical charts: "Nov" and, where it changes, "2026"); the
    # table and the tooltip name it in full.
    short_label: str
    label_second: str
    total: float
    segments: list
    # Where the category label is written, and whether it is written at all.
    label_x: float
    label_y: float
    show_label: bool
    href: str = ""


@dataclass(frozen=True)
class Tick:
    label: str
    # The grid line across the plot, and where its label is written.
    x1: float
    y1: float
    x2: float
    y2: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Cell:
    value: float
    text: str
    href: str = ""


@dataclass(frozen=True)
class Row:
    label: str
    cells: list
    total: Cell


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    description: str
    summary: str
    horizontal: bool
    percent: bool
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_right: float
    plot_bottom: float
    bars: list
    ticks: list
    series: list
    rows: list
    category_heading: str
    value_label: str
    category_label: str
    empty: bool

    @property
    def title_id(self):
        return f"{self.chart_id}-title"

    @property
    def desc_id(self):
        return f"{self.chart_id}-desc"

    @property
    def plot_middle_x(self):
        return round((self.plot_left + self.plot_right) / 2, 1)

    @property
    def plot_middle_y(self):
        return round((self.plot_top + self.plot_bottom) / 2, 1)

    @property
    def axis_title_y(self):
        """The baseline of the title under the plot."""
        return self.height - 6

    @property
    def narrow(self):
        return self.width <= HALF_WIDTH

    @property
    def many_series(self):
        return len(self.series) > 1


# --- Months, the usual time axis ---------------------------------------------


def month_range(year, month, count):
    """`count` months from (year, month) on, as (year, month) pairs."""
    result = []
    for _i in range(count):
        result.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def last_months(today, count):
    """The `count` months up to and including the month of `today`, oldest first."""
    back = today.year * 12 + today.month - 1 - (count - 1)
    return month_range(back // 12, back % 12 + 1, count)


def month_key(year, month):
    """'YYYY-MM': the form of the ?month= filters the numbers link to."""
    return f"{year:04d}-{month:02d}"


def month_label(year, month):
    return formats.date_format(datetime.date(year, month, 1), "M Y")


def month_start(year, month):
    """Midnight on the first of the month, local time (aware)."""
    return datetime.datetime(year, month, 1, tzinfo=timezone.get_current_timezone())


def local_month_key(moment):
    local = timezone.localtime(moment)
    return month_key(local.year, local.month)


# --- Numbers and scales --------------------------------------------------------


def format_number(value):
    """Whole numbers without decimals, others with one (hours to a decision)."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def nice_scale(maximum, steps=4):
    """(top, step) with a round step (1, 2 or 5 times a power of ten) so that
    `top` >= `maximum` in at most `steps` steps. An empty chart gets 0..1."""
    if maximum <= 0:
        return 1, 1
    raw = maximum / steps
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        step = multiple * power
        if step >= raw:
            break
    if step < 1 and float(maximum).is_integer():
        step = 1
    top = step * math.ceil(maximum / step)
    return top, step


def _shorten(label):
    return label if len(label) <= SHORT_LABEL else label[: SHORT_LABEL - 1] + "…"


def _series(series):
    result = []
    for index, item in enumerate(series):
        key, label, *css = item
        result.append(Series(key=key, label=str(label), css=css[0] if css else f"chart-s{index % PALETTE_SIZE}"))
    return result


def _summary(categories, totals, series, series_totals, percent):
    total = sum(totals.values())
    if total == 0:
        return _("No data to show: every value is zero.")
    parts = [f"{s.label}: {format_number(series_totals[s.key])}" for s in series if series_totals[s.key]]
    text = _("Total %(total)s (%(parts)s).") % {"total": format_number(total), "parts": "; ".join(parts)}
    if not percent and len(categories) > 1:
        top_key, top_label = max(categories, key=lambda c: totals[c[0]])
        text += " " + _("Highest: %(label)s with %(value)s.") % {
            "label": top_label,
            "value": format_number(totals[top_key]),
        }
    return text


def bar_chart(
    *,
    chart_id,
    title,
    description,
    categories,
    series,
    values,
    links=None,
    horizontal=False,
    percent=False,
    value_label="",
    category_label="",
    category_heading="",
    width=WIDTH,
):
    """Geometry and table of a (stacked) bar chart.

    categories: [(key, label)], the bars in order. series: [(key, label)] or
    [(key, label, css class)], the stacked parts. values: {(category key,
    series key): number}; missing pairs are 0. links: {(category key, series
    key): url} for a part, {(category key, None): url} for a bar's total.
    """
    links = links or {}
    series = _series(series)
    categories = [(key, str(label)) for key, label in categories]
    value = {(c, s.key): values.get((c, s.key), 0) or 0 for c, _label in categories for s in series}
    totals = {c: sum(value[(c, s.key)] for s in series) for c, _label in categories}
    series_totals = {s.key: sum(value[(c, s.key)] for c, _label in categories) for s in series}
    empty = not any(totals.values())

    if horizontal:
        plot_left = MARGIN_LEFT_HORIZONTAL
        plot_top = MARGIN_TOP
        height = MARGIN_TOP + len(categories) * (ROW_HEIGHT + ROW_GAP) + MARGIN_BOTTOM_HORIZONTAL
        plot_bottom = height - MARGIN_BOTTOM_HORIZONTAL
    else:
        plot_left = MARGIN_LEFT_VERTICAL
        plot_top = MARGIN_TOP
        height = VERTICAL_HEIGHT
        plot_bottom = height - MARGIN_BOTTOM_VERTICAL
    plot_right = width - MARGIN_RIGHT
    length = (plot_right - plot_left) if horizontal else (plot_bottom - plot_top)

    if percent:
        top, step = 100, 25
    else:
        top, step = nice_scale(max(totals.values(), default=0))
    ticks = []
    tick = 0
    while tick <= top + 1e-9:
        offset = length * tick / top
        label = format_number(tick) + (PERCENT if percent else "")
        if horizontal:
            pos = round(plot_left + offset, 1)
            ticks.append(Tick(label, pos, plot_top, pos, plot_bottom, pos, plot_bottom + 14))
        else:
            pos = round(plot_bottom - offset, 1)
            ticks.append(Tick(label, plot_left, pos, plot_right, pos, plot_left - 6, pos + 4))
        tick += step

    bars = []
    count = max(len(categories), 1)
    slot = ((plot_bottom - plot_top) if horizontal else (plot_right - plot_left)) / count
    thickness = min(slot * 0.7, ROW_HEIGHT if horizontal else 48)
    firsts, seconds = [], []
    for _key, label in categories:
        first, _space, second = label.rpartition(" ") if (not horizontal and " " in label) else (label, "", "")
        firsts.append(first)
        seconds.append(second)
    widest = max((len(first) for first in firsts), default=1) * LABEL_CHAR_WIDTH + 4
    label_every = 1 if horizontal else max(1, math.ceil(widest / slot))
    # The second line is written only where it changes between written labels.
    written_seconds, previous = [], None
    for index, second in enumerate(seconds):
        written = index % label_every == 0 and second != previous
        written_seconds.append(second if written else "")
        if index % label_every == 0:
            previous = second
    # Two years side by side would run into each other ("2025" under December,
    # "2026" under January): the first goes, the table names it.
    shown = [i for i in range(len(seconds)) if i % label_every == 0]
    if len(shown) > 1 and written_seconds[shown[0]] and written_seconds[shown[1]]:
        written_seconds[shown[0]] = ""
    for index, (key, label) in enumerate(categories):
        start = (plot_top if horizontal else plot_left) + index * slot + (slot - thickness) / 2
        scale_total = totals[key] if percent else top
        running = 0.0
        segments = []
        for s in series:
            part = value[(key, s.key)]
            if part <= 0 or scale_total <= 0:
                continue
            begin = length * running / scale_total
            size = length * part / scale_total
            running += part
            if horizontal:
                x, y, w, h = plot_left + begin, start, size, thickness
            else:
                x, y, w, h = start, plot_bottom - begin - size, thickness, size
            segments.append(
                Segment(
                    series=s,
                    value=part,
                    x=round(x, 1),
                    y=round(y, 1),
                    width=round(w, 1),
                    height=round(h, 1),
                    href=links.get((key, s.key), links.get((key, None), "")),
                )
            )
        if horizontal:
            label_x, label_y = plot_left - 6, start + thickness / 2 + 4
        else:
            label_x, label_y = start + thickness / 2, plot_bottom + 16
        bars.append(
            Bar(
                key=key,
                label=label,
                short_label=_shorten(firsts[index]),
                label_second=written_seconds[index],
                total=totals[key],
                segments=segments,
                label_x=round(label_x, 1),
                label_y=round(label_y, 1),
                show_label=index % label_every == 0,
                href=links.get((key, None), ""),
            )
        )

    rows = []
    for key, label in categories:
        cells = []
        for s in series:
            part = value[(key, s.key)]
            text = format_number(part)
            if percent and totals[key]:
                text = f"{text} ({round(100 * part / totals[key])}{PERCENT})"
            cells.append(Cell(value=part, text=text, href=links.get((key, s.key), "")))
        rows.append(
            Row(
                label=label,
                cells=cells,
                total=Cell(value=totals[key], text=format_number(totals[key]), href=links.get((key, None), "")),
            )
        )

    return Chart(
        chart_id=chart_id,
        title=str(title),
        description=str(description),
        summary=_summary(categories, totals, series, series_totals, percent),
        horizontal=horizontal,
        percent=percent,
        width=width,
        height=int(height),
        plot_left=plot_left,
        plot_top=plot_top,
        plot_right=plot_right,
        plot_bottom=plot_bottom,
        bars=bars,
        ticks=ticks,
        series=series,
        rows=rows,
        category_heading=str(category_heading or category_label),
        value_label=str(value_label),
        category_label=str(category_label),
        empty=empty,
    )
