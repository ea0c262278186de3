"""PDF versions of printable pages (the AP form, later the dossier overview and
the deletion certificate).

One source of truth: the page's own HTML is rendered as for the browser, and
its content (headings, paragraphs, definition lists, list items and table
rows inside <main>) is laid out again with reportlab. Forms, navigation and
buttons are left out, like the print stylesheet does.
"""

import io
from html.parser import HTMLParser
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.template.loader import render_to_string
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus.tables import TableStyle

_BLOCKS = {"h1", "h2", "h3", "p", "dt", "dd", "li", "th", "td", "caption"}
_SKIP = {"form", "nav", "button", "script", "style", "header", "footer", "select", "option"}


class _Collector(HTMLParser):
    """Collects (kind, text) blocks from <main>, and table rows as lists."""

    def __init__(self):
        super().__init__()
        self.in_main = 0
        self.skip = 0
        self.blocks = []
        self.kind = None
        self.text = []
        self.row = None

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.in_main += 1
        if not self.in_main:
            return
        if tag in _SKIP:
            self.skip += 1
        elif tag == "tr":
            self.row = []
        elif tag in _BLOCKS and not self.skip:
            self._flush()
            self.kind = tag
        elif tag == "br":
            self.text.append(" ")

    def handle_endtag(self, tag):
        if not self.in_main:
            return
        if tag in _SKIP and self.skip:
            self.skip -= 1
        elif tag in _BLOCKS and self.kind == tag:
            self._flush()
        elif tag == "tr" and self.row is not None:
            if self.row:
                self.blocks.append(("row", self.row))
            self.row = None
        if tag == "main":
            self.in_main -= 1

    def handle_data(self, data):
        if self.in_main and not self.skip and self.kind:
            self.text.append(data)

    def _flush(self):
        if self.kind:
            text = " ".join("".join(self.text).split())
            if self.kind in ("th", "td") and self.row is not None:
                self.row.append(text)
            elif text:
                self.blocks.append((self.kind, text))
        self.kind, self.text = None, []


def _flowables(blocks):
    styles = getSampleStyleSheet()
    style = {
        "h1": styles["Title"],
        "h2": styles["Heading2"],
        "h3": styles["Heading3"],
        "p": styles["BodyText"],
        "dd": styles["BodyText"],
        "caption": styles["Italic"],
    }
    story, rows, items = [], [], []

    def close_table():
        if rows:
            width = max(len(r) for r in rows)
            data = [[Paragraph(escape(c), styles["BodyText"]) for c in r + [""] * (width - len(r))] for r in rows]
            table = Table(data, repeatRows=1)
            table.setStyle(
                TableStyle([("GRID", (0, 0), (-1, -1), 0.25, "#888888"), ("VALIGN", (0, 0), (-1, -1), "TOP")])
            )
            story.append(table)
            story.append(Spacer(1, 4 * mm))
            rows.clear()

    def close_list():
        if items:
            story.append(
                ListFlowable([ListItem(Paragraph(escape(t), styles["BodyText"])) for t in items], bulletType="bullet")
            )
            items.clear()

    for kind, value in blocks:
        if kind != "row":
            close_table()
        if kind != "li":
            close_list()
        if kind == "row":
            rows.append(value)
        elif kind == "li":
            items.append(value)
        elif kind == "dt":
            story.append(Paragraph(f"<b>{escape(value)}</b>", styles["BodyText"]))
        else:
            story.append(Paragraph(escape(value), style.get(kind, styles["BodyText"])))
    close_table()
    close_list()
    return story


def pdf_from_html(html, title):
    collector = _Collector()
    collector.feed(html)
    collector._flush()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    document.build(_flowables(collector.blocks) or [Paragraph(escape(title), getSampleStyleSheet()["Title"])])
    return buffer.getvalue()


def pdf_response(request, template_name, context, *, title, filename):
    """Render `template_name` as the page would be, and answer it as a PDF."""
    html = render_to_string(template_name, context, request=request)
    response = HttpResponse(pdf_from_html(html, title), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
