"""A line diff of two versions of a statement, for the FG.

A version is stored as HTML; it is read back as lines of text, one per
heading, paragraph, list item and table row, and compared with difflib.
Long runs of unchanged lines are folded, so the changes stand out.
"""

import difflib
from html.parser import HTMLParser
from itertools import zip_longest

_BLOCKS = {"h1", "h2", "h3", "p", "li"}
CONTEXT = 2


class _Lines(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lines = []
        self.text = None
        self.tag = None
        self.row = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.text, self.tag = [], tag
        elif tag in _BLOCKS and self.row is None:
            self._flush()
            self.text, self.tag = [], tag

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.text is not None:
            self.row.append(" ".join("".join(self.text).split()))
            self.text = None
        elif tag == "tr" and self.row is not None:
            if any(self.row):
                self.lines.append(" | ".join(self.row))
            self.row = None
        elif tag == self.tag:
            self._flush()

    def handle_data(self, data):
        if self.text is not None:
            self.text.append(data)

    def _flush(self):
        if self.text is not None and self.row is None:
            line = " ".join("".join(self.text).split())
            if line:
                prefix = {"h1": "# ", "h2": "## ", "h3": "### ", "li": "- "}.get(self.tag, "")
                self.lines.append(prefix + line)
        self.text, self.tag = None, None


def text_lines(html):
    parser = _Lines()
    parser.feed(html)
    parser.close()
    parser._flush()
    return parser.lines


def line_diff(old_html, new_html):
    """Rows of {"kind", "old", "new", "count"}: kind is "equal", "delete",
    "insert", "replace" or "skip" (folded unchanged lines, `count` of them)."""
    old, new = text_lines(old_html), text_lines(new_html)
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            same = old[i1:i2]
            if len(same) > 2 * CONTEXT + 1:
                head = same[:CONTEXT] if rows else []
                tail = same[-CONTEXT:]
                rows += [{"kind": "equal", "old": line, "new": line} for line in head]
                rows.append({"kind": "skip", "count": len(same) - len(head) - len(tail)})
                rows += [{"kind": "equal", "old": line, "new": line} for line in tail]
            else:
                rows += [{"kind": "equal", "old": line, "new": line} for line in same]
        else:
            for before, after in zip_longest(old[i1:i2], new[j1:j2]):
                kind = (
                    "replace" if before is not None and after is not None else "delete" if after is None else "insert"
                )
                rows.append({"kind": kind, "old": before, "new": after})
    return rows


def has_changes(rows):
    return any(row["kind"] not in ("equal", "skip") for row in rows)
