"""A lesson's table of contents, made at save from its rendered body's headings."""

import html
from html.parser import HTMLParser

# A lesson gets a table of contents when it has at least this many headings (h2 to h4).
TOC_MIN_HEADINGS = 3


class _Headings(HTMLParser):
    """The h2 to h4 headings of rendered HTML that carry an anchor: (level, id, text), the
    heading's permalink ("#") left out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []
        self._current: tuple[int, str, list[str]] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("h2", "h3", "h4") and attributes.get("id"):
            self._current = (int(tag[1]), attributes["id"], [])
        elif self._current and (self._skip or "headerlink" in (attributes.get("class") or "")):
            self._skip += 1

    def handle_endtag(self, tag):
        if self._current is None:
            return
        if tag == f"h{self._current[0]}":
            level, anchor, parts = self._current
            text = " ".join("".join(parts).split())
            if text:
                self.found.append((level, anchor, text))
            self._current = None
            self._skip = 0
        elif self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._current and not self._skip:
            self._current[2].append(data)


def table_of_contents(body_html: str) -> str:
    """A nested list of links to the headings of rendered (already sanitised) HTML, or ""
    when it has fewer than TOC_MIN_HEADINGS. Rendered at save, beside the body; only readers
    who get the body get it (its headings may come after a premium lesson's cut)."""
    parser = _Headings()
    parser.feed(body_html)
    headings = parser.found
    if len(headings) < TOC_MIN_HEADINGS:
        return ""
    top = min(level for level, _, _ in headings)
    out, depth = ["<ol>"], 0
    for index, (level, anchor, text) in enumerate(headings):
        target = max(0, min(level - top, depth + 1 if index else 0))
        if index:
            if target > depth:
                out.append("<ol>")
            else:
                out.append("</li>")
                out += ["</ol></li>"] * (depth - target)
        depth = target
        out.append(f'<li><a href="#{html.escape(anchor)}">{html.escape(text)}</a>')
    out += ["</li>"] + ["</ol></li>"] * depth
    out.append("</ol>")
    return "".join(out)
