"""The one Markdown pipeline: Python-Markdown, then bleach with an explicit allowlist.

Everything an author writes (lesson bodies, teasers, series descriptions, paywall messages)
goes through `render()`, once, when it is saved. Pages never render Markdown.

`split_teaser()` finds the public part of a lesson's source: everything before the first
`<!-- more -->`, or else the leading blocks up to a word budget, never cutting inside a list,
table, block quote or code block, and never the whole body.

`check_source()` refuses, with a message for the author, the shapes of text that would take the
pipeline too long or too deep (nesting, brackets, emphasis runs, huge tables...); `render()`
applies it. The time any text may take is bounded by the caller (lessons/models.py).
"""

import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
from django.conf import settings
from django.utils.translation import gettext
from markdown.extensions import Extension
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.toc import TocExtension, slugify_unicode
from markdown.preprocessors import Preprocessor

from lessons import diagrams

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl",
        "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
        "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
        "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "ul",
    }
)  # fmt: skip
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_PER_TAG = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading", "decoding"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
    "details": {"open"},
}
# Ids come from heading anchors and footnotes; the site's own ids start with "site-" or "id_",
# and diagrams' with "diagram-", so author content cannot take them over.
_ID_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "li", "sup", "div", "span"}
_ID = re.compile(r"^(?!site-|id_|diagram-)[\w][\w:.-]{0,100}$")
# Classes are those the pipeline itself writes: code highlighting (Pygments' short token
# names), footnotes and heading anchors. An author cannot borrow the site's own classes
# (paywall, badge, message...) to dress content up as the site. Diagrams are added after
# sanitising (see render()), so no author markup can claim to be one.
_CLASSES = {"highlight", "footnote", "footnote-ref", "footnote-backref", "headerlink"}
_CLASS = re.compile(r"^([a-z]{1,3}\d?|language-[\w+-]{1,30})$")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in _PER_TAG.get(tag, ()):
        return True
    if name == "id":
        return tag in _ID_TAGS and bool(_ID.match(value))
    if name == "class":
        return all(token in _CLASSES or _CLASS.match(token) for token in value.split())
    return False


# The marker, wherever it stands (in a quote, with odd spacing, inside a code block): the
# teaser always ends before its first occurrence. Failing closed beats a clever parse.
MORE_MARKER = re.compile(r"<!--\s*more\b[^>]*-->", re.IGNORECASE)
# Python-Markdown's fenced code: a fence at the start of a line, an optional language or
# attribute list, closed by the same fence.
_FENCE_OPEN = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w#.+-]*)[ \t]*(\{[^}\n]*\})?[ \t]*$"
)
_LIST_ITEM = re.compile(r"^[ \t]{0,3}([-*+]|\d{1,9}[.)])[ \t]+")
_HEADING = re.compile(r"^#{1,6}[ \t]")
_SCRIPTS_WITHOUT_SPACES = (
    "\u0e00-\u0eff\u1000-\u109f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
)
_WORD = re.compile(rf"[{_SCRIPTS_WITHOUT_SPACES}]|[^\W{_SCRIPTS_WITHOUT_SPACES}]+")
# A teaser is also capped in characters, whatever the words.
CHARS_PER_WORD = 8


def normalise_newlines(text: str) -> str:
    """Browsers send textareas with CRLF line endings; the pipeline reads plain LF."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def _fences(lines: list[str]):
    """Yield (start, end, language) of each closed fenced code block, by line index."""
    i = 0
    # Fences that no later line closes: a later opener with the same fence is not closed
    # either, so each is searched for once (thousands of unclosed openers stay linear).
    unclosed: set[str] = set()
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if opening and opening["fence"] not in unclosed:
            fence = opening["fence"]
            for j in range(i + 1, len(lines)):
                if lines[j].rstrip() == fence:
                    yield i, j, opening["lang"].lower()
                    i = j
                    break
            else:
                unclosed.add(fence)
        i += 1


def code_lines(lines: list[str]) -> set[int]:
    """Indexes of the lines inside fenced code blocks (fences included)."""
    inside: set[int] = set()
    for start, end, _ in _fences(lines):
        inside.update(range(start, end + 1))
    return inside


class _MermaidPreprocessor(Preprocessor):
    """Set ```mermaid fences aside before code highlighting sees them, leaving a slot.

    The drawing is not given to the HTML sanitiser, which does not know SVG: each block leaves
    a placeholder, unguessable per render, that draw() fills after sanitising with the SVG
    that lessons.diagrams rebuilds from its own allowlist. Other fences (a Markdown example
    that shows a mermaid fence, say) are left alone."""

    def __init__(self, md, slots: list, token: str):
        super().__init__(md)
        self.slots = slots
        self.token = token

    def run(self, lines):
        out, last, number = [], 0, 0
        for start, end, language in _fences(lines):
            if language != "mermaid":
                continue
            number += 1
            slot = f"<p>{self.token}-{number}</p>"
            self.slots.append((slot, number, "\n".join(lines[start + 1 : end])))
            out += [*lines[last:start], "", self.md.htmlStash.store(slot), ""]
            last = end + 1
        return out + lines[last:]


class _MermaidExtension(Extension):
    def __init__(self):
        super().__init__()
        self.slots: list[tuple[str, int, str]] = []
        self.token = f"diagram-slot-{secrets.token_hex(12)}"

    def extendMarkdown(self, md):
        md.preprocessors.register(_MermaidPreprocessor(md, self.slots, self.token), "mermaid", 30)


def _converter(mermaid: _MermaidExtension, *, anchors: bool) -> markdown.Markdown:
    # Headings get ids and a "#" link to themselves (no title: stored HTML is shown in
    # either interface language) in lessons, not in the short texts of a series, several of
    # which can share a page.
    # The same goes for footnotes, whose ids would repeat as well.
    anchored = (
        [
            TocExtension(
                permalink="#", permalink_title="", toc_depth="2-4", slugify=slugify_unicode
            ),
            FootnoteExtension(BACKLINK_TITLE=""),
        ]
        if anchors
        else []
    )
    return markdown.Markdown(
        extensions=[
            mermaid,
            "fenced_code",
            "tables",
            "sane_lists",
            *anchored,
            CodeHiliteExtension(css_class="highlight", guess_lang=False),
        ],
        extension_configs={"tables": {"use_align_attribute": True}},
        output_format="html",
    )


def sanitize(dirty_html: str) -> str:
    """Keep only allowlisted tags, attributes and link schemes; escape everything else."""
    # Imported here: only saving a lesson sanitises, and bleach (with the html5lib it
    # carries) is 11 MB that no worker serving readers needs.
    import bleach

    clean = bleach.clean(
        dirty_html,
        tags=ALLOWED_TAGS | {"h1"},
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=False,
        strip_comments=True,
    )
    # The page title is the only <h1>; an author's top-level headings become <h2>.
    return re.sub(r"<(/?)h1\b", r"<\1h2", clean)


# Limits. Python-Markdown recurses once per level of nesting and rescans the rest of a
# paragraph for every bracket left open, so such text can take minutes or end in a
# RecursionError; these limits stay far below where that starts, and far above real lessons.
MAX_NESTING = 50  # levels of lists and block quotes opened at the start of a line
MAX_OPEN_BRACKETS = 100  # '[' or '(' open at once in a paragraph, nested or never closed
MAX_EMPHASIS_RUN = 100  # '*' or '_' in a row
MAX_UNCLOSED_FENCES = 100
MAX_TABLE_ROWS = 2000
MAX_FOOTNOTES = 1000
MAX_HEADINGS = 1000

_NESTING_PART = re.compile(r"(?P<space>[ \t]+)|>|(?:[-*+]|\d{1,9}[.)])(?=[ \t])")
_BRACKET = re.compile(r"\\.|[\[\]()]")
_EMPHASIS_RUN = re.compile(rf"\*{{{MAX_EMPHASIS_RUN + 1},}}|_{{{MAX_EMPHASIS_RUN + 1},}}")
_FOOTNOTE = re.compile(r"^[ ]{0,3}\[\^[^\]\n]+\]:")


class RenderError(ValueError):
    """The text cannot be rendered within the limits; `problems` say why, for its author."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


def _nesting(line: str) -> int:
    """Levels opened at the start of a line: each > mark and list marker, and each four
    columns of indentation."""
    levels = position = 0
    while part := _NESTING_PART.match(line, position):
        levels += len(part["space"].expandtabs(4)) // 4 if part["space"] else 1
        position = part.end()
    return levels


class _Found:
    """Where a limit was first passed, the worst value seen, and how many times."""

    def __init__(self):
        self.line, self.worst, self.count = 0, 0, 0

    def add(self, line: int, value: int) -> None:
        self.line = self.line or line
        self.worst = max(self.worst, value)
        self.count += 1

    def more(self) -> str:
        if self.count <= 1:
            return ""
        return gettext(" (and %(count)s more)") % {"count": self.count - 1}


class _OpenBrackets:
    """Brackets open at once in the current paragraph, square and round counted apart."""

    def __init__(self):
        self.square = self.round = 0

    def most_after(self, line: str) -> int:
        most = 0
        for bracket in _BRACKET.finditer(line):
            char = bracket[0]
            if char == "[":
                self.square += 1
            elif char == "(":
                self.round += 1
            elif char == "]":
                self.square = max(0, self.square - 1)
            elif char == ")":
                self.round = max(0, self.round - 1)
            most = max(most, self.square, self.round)
        return most


def check_source(source: str) -> list[str]:
    """What in this Markdown source passes the limits above, as messages naming the line;
    empty when it can be rendered. Linear in the length of the source."""
    return _limit_messages(*_scan(normalise_newlines(source).split("\n")))


def _scan(lines: list[str]):
    in_code: set[int] = set()
    for start, end, _ in _fences(lines):
        in_code.update(range(start, end + 1))
    nesting, brackets, emphasis, table = _Found(), _Found(), _Found(), _Found()
    unclosed_fences = footnotes = headings = table_rows = 0
    paragraph, paragraph_flagged = _OpenBrackets(), False
    for number, line in enumerate(lines, start=1):
        if number - 1 in in_code:
            continue
        if not line.strip():
            paragraph, paragraph_flagged, table_rows = _OpenBrackets(), False, 0
            continue
        unclosed_fences += bool(_FENCE_OPEN.match(line))
        footnotes += bool(_FOOTNOTE.match(line))
        headings += bool(_HEADING.match(line))
        if (levels := _nesting(line)) > MAX_NESTING:
            nesting.add(number, levels)
        if run := _EMPHASIS_RUN.search(line):
            emphasis.add(number, len(run[0]))
        if paragraph.most_after(line) > MAX_OPEN_BRACKETS and not paragraph_flagged:
            brackets.add(number, 0)
            paragraph_flagged = True
        table_rows = table_rows + 1 if "|" in line else 0
        if table_rows == MAX_TABLE_ROWS + 1:
            table.add(number - MAX_TABLE_ROWS, table_rows)
    return nesting, brackets, emphasis, table, unclosed_fences, footnotes, headings


def _limit_messages(
    nesting, brackets, emphasis, table, unclosed_fences, footnotes, headings
) -> list[str]:
    problems = []
    if nesting.count:
        problems.append(
            gettext(
                "Line %(line)s%(more)s is nested %(levels)s levels deep in lists or block "
                "quotes; at most %(max)s levels can be shown."
            )
            % {
                "line": nesting.line,
                "more": nesting.more(),
                "levels": nesting.worst,
                "max": MAX_NESTING,
            }
        )
    if brackets.count:
        problems.append(
            gettext(
                "Line %(line)s%(more)s leaves more than %(max)s brackets [ or ( open at once, "
                "nested or never closed. Close them, or write \\[ and \\( for brackets meant "
                "as text."
            )
            % {"line": brackets.line, "more": brackets.more(), "max": MAX_OPEN_BRACKETS}
        )
    if emphasis.count:
        problems.append(
            gettext(
                "Line %(line)s%(more)s has %(count)s * or _ in a row; at most %(max)s can stand "
                "together. Write \\* and \\_ for ones meant as text."
            )
            % {
                "line": emphasis.line,
                "more": emphasis.more(),
                "count": emphasis.worst,
                "max": MAX_EMPHASIS_RUN,
            }
        )
    if unclosed_fences > MAX_UNCLOSED_FENCES:
        problems.append(
            gettext(
                "%(count)s code fences (``` or ~~~) are never closed; at most %(max)s can be. "
                "Close each code block with a line like its opening."
            )
            % {"count": unclosed_fences, "max": MAX_UNCLOSED_FENCES}
        )
    if table.count:
        problems.append(
            gettext(
                "The table at line %(line)s%(more)s has more than %(max)s rows; split it, or "
                "link to the data instead."
            )
            % {"line": table.line, "more": table.more(), "max": MAX_TABLE_ROWS}
        )
    if footnotes > MAX_FOOTNOTES:
        problems.append(
            gettext("The text has %(count)s footnotes; at most %(max)s can be.")
            % {"count": footnotes, "max": MAX_FOOTNOTES}
        )
    if headings > MAX_HEADINGS:
        problems.append(
            gettext("The text has %(count)s headings; at most %(max)s can be.")
            % {"count": headings, "max": MAX_HEADINGS}
        )
    return problems


@dataclass(frozen=True)
class Rendered:
    """Sanitised HTML whose diagrams still wait in their slots: (slot, number, source)."""

    html: str
    diagrams: tuple[tuple[str, int, str], ...] = ()


_EMPTY_BACKLINK_TITLE = re.compile(r'(<a class="footnote-backref" href="[^"]*") title=""')


def render_text(source: str, *, anchors: bool = True) -> Rendered:
    """Markdown source to sanitised HTML, diagrams set aside. This is the part whose cost
    depends on the text (it may run in a child process with a time limit, lessons.models);
    each diagram has its own limits when draw() draws it. HTML comments, the `<!-- more -->`
    marker among them, are dropped. Raises RenderError when the source passes the limits
    above."""
    if problems := check_source(source):
        raise RenderError(problems)
    mermaid = _MermaidExtension()
    try:
        converter = _converter(mermaid, anchors=anchors)
        clean = _images(sanitize(converter.convert(normalise_newlines(source))))
        clean = _EMPTY_BACKLINK_TITLE.sub(r"\1", clean)
    except RecursionError:
        raise RenderError(
            [
                gettext(
                    "The text is nested too deeply to be shown (lists, quotes, links or "
                    "emphasis inside one another); flatten it."
                )
            ]
        ) from None
    return Rendered(clean, tuple(mermaid.slots))


def render_short_text(source: str) -> Rendered:
    """A series' description or selling text: render_text() without heading anchors."""
    return render_text(source, anchors=False)


def draw(rendered: Rendered) -> str:
    """The HTML with each diagram drawn as inline SVG in its slot (or, when it cannot be
    drawn, its source and why)."""
    html_text = rendered.html
    for slot, number, code in rendered.diagrams:
        try:
            figure = diagrams.figure(code, number=number)
        except diagrams.DiagramError as error:
            figure = diagrams.failed_figure(code, error)
        html_text = html_text.replace(slot, figure, 1)
    return html_text


def render(source: str) -> str:
    """Markdown source to safe HTML, with diagrams drawn as inline SVG."""
    return draw(render_text(source))


def render_lesson_text(source: str, teaser_words: int) -> tuple[Rendered, Rendered]:
    """A lesson's body and its teaser, each from its own source, diagrams set aside."""
    return render_text(source), render_text(split_teaser(source, teaser_words))


_IMG = re.compile(r"<img\b([^>]*?)/?>")
_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
# Uploaded images are stored under names that carry their size (lessons.images), so the
# pipeline can give every one its width and height without opening a file.
_SIZED_NAME = re.compile(r"-(\d{1,5})x(\d{1,5})\.(?:png|jpe?g|gif|webp)$")


def _images(clean: str) -> str:
    """Every image loads lazily; an uploaded one gets its width and height, so the page
    does not jump as it arrives."""

    def rewrite(match: re.Match) -> str:
        attributes = dict(_ATTRIBUTE.findall(match[1]))
        src = html.unescape(attributes.get("src", ""))
        if src.startswith(settings.MEDIA_URL) and (size := _SIZED_NAME.search(src)):
            attributes.setdefault("width", size[1])
            attributes.setdefault("height", size[2])
        attributes["loading"] = "lazy"
        attributes["decoding"] = "async"
        return "<img " + " ".join(f'{name}="{value}"' for name, value in attributes.items()) + ">"

    return _IMG.sub(rewrite, clean)


@dataclass(frozen=True)
class ImageProblem:
    number: int  # the image's place in the text, from 1
    src: str

    def __str__(self) -> str:
        return gettext(
            "Image %(number)s (%(src)s) has no alt text: describe what it shows between the "
            "brackets, as in ![A chart of the three stages](%(src)s)."
        ) % {"number": self.number, "src": self.src}


def image_problems(body_html: str) -> list[ImageProblem]:
    """Images of rendered HTML without alt text, which readers of screen readers need."""
    problems = []
    for number, match in enumerate(_IMG.finditer(body_html), start=1):
        attributes = dict(_ATTRIBUTE.findall(match[1]))
        if not html.unescape(attributes.get("alt", "")).strip():
            problems.append(ImageProblem(number, html.unescape(attributes.get("src", ""))))
    return problems


# Marks around highlighted words in search snippets (lessons.search); never in indexed text.
HIGHLIGHT_START, HIGHLIGHT_STOP = "\ue000", "\ue001"
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f\ue000\ue001]")


class _Text(HTMLParser):
    """The readable text of rendered HTML: no tags, no heading permalinks, no CSS."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if self._skip or tag == "style" or "headerlink" in (dict(attrs).get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def one_line(text: str) -> str:
    """Plain text on one line, without control characters, for the search index."""
    return " ".join(_NOT_TEXT.sub(" ", text or "").split())


def plain_text(rendered: str) -> str:
    """The readable text of rendered HTML, on one line, for the search index."""
    parser = _Text()
    parser.feed(rendered or "")
    parser.close()
    return one_line(" ".join(parser.parts))


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


@dataclass(frozen=True)
class DiagramProblem:
    number: int  # the diagram's place among the text's ```mermaid blocks, from 1
    line: int  # in the text, from 1
    message: str

    def __str__(self) -> str:
        return gettext("Diagram %(number)s (line %(line)s) cannot be drawn: %(why)s.") % {
            "number": self.number,
            "line": self.line,
            "why": self.message,
        }


def diagram_problems(source: str) -> list[DiagramProblem]:
    """Every ```mermaid block of `source` that cannot be drawn, with the line to look at."""
    lines = normalise_newlines(source).split("\n")
    problems, number = [], 0
    for start, end, language in _fences(lines):
        if language != "mermaid":
            continue
        number += 1
        try:
            diagrams.draw("\n".join(lines[start + 1 : end]), prefix="check")
        except diagrams.DiagramError as error:
            line = start + 1 + (error.line or 0)
            problems.append(DiagramProblem(number, line, error.message))
    return problems


def count_words(text: str) -> int:
    """Words, counting each character of scripts written without spaces (Chinese, Japanese,
    Thai...) as one."""
    return len(_WORD.findall(text))


def reading_minutes(body_html: str, words_per_minute: int = 200) -> int:
    text = re.sub(r"<svg\b.*?</svg>", " ", body_html, flags=re.DOTALL)
    text = re.sub(r"<[^>]*>", " ", text)
    return max(1, round(count_words(html.unescape(text)) / words_per_minute))


@dataclass
class _Block:
    lines: list[str]
    start: int  # index of its first line in the source
    open_fence: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def first(self) -> str:
        return self.lines[0]

    @property
    def end(self) -> int:
        """Index of the line after its last one."""
        return self.start + len(self.lines)

    @property
    def is_heading(self) -> bool:
        return bool(_HEADING.match(self.first))


def _blocks(source: str) -> list[_Block]:
    """Split source into top-level blocks: runs of lines between blank lines, with fenced code
    kept whole, and with indented continuations and the items of a loose list joined to the
    block they belong to."""
    lines = source.split("\n")
    fenced = {}
    for start, end, _ in _fences(lines):
        fenced[start] = end
    blocks: list[_Block] = []
    current: list[str] = []
    current_start = 0

    def close():
        nonlocal current
        if not current:
            return
        prev = blocks[-1] if blocks else None
        continues = prev is not None and (
            current[0][:1] in (" ", "\t")
            or (_LIST_ITEM.match(prev.first) and _LIST_ITEM.match(current[0]))
        )
        if continues:
            prev.lines.extend(lines[prev.end : current_start] + current)
        else:
            blocks.append(_Block(current, current_start))
        current = []

    i = 0
    while i < len(lines):
        line = lines[i]
        if not current:
            current_start = i
        if i in fenced:
            current.extend(lines[i : fenced[i] + 1])
            i = fenced[i] + 1
            continue
        if _FENCE_OPEN.match(line):
            # A fence that never closes: Markdown shows it as text; keep it apart and mark it.
            close()
            blocks.append(_Block(lines[i:], i, open_fence=True))
            break
        if line.strip():
            current.append(line)
        else:
            close()
        i += 1
    close()
    return blocks


def _join(blocks: list[_Block]) -> str:
    return "\n\n".join(block.text.strip("\n") for block in blocks) + ("\n" if blocks else "")


@dataclass(frozen=True)
class Teaser:
    """The public part of a lesson's source, and where it stops."""

    source: str  # its Markdown
    end_line: int  # the lines of the (normalised) full source before this one are the teaser
    marker: bool  # cut by `<!-- more -->` rather than by the word budget

    @property
    def words(self) -> int:
        return count_words(self.source)


def teaser(source: str, word_budget: int) -> Teaser:
    """The public part of a lesson: see `split_teaser()`."""
    source = normalise_newlines(source)
    marker = MORE_MARKER.search(source)
    if marker:
        head = source[: source.rfind("\n", 0, marker.start()) + 1]
        taken = [block for block in _blocks(head) if not block.open_fence]
    else:
        taken = []
        words = chars = 0
        has_text = False
        for block in _blocks(source)[:-1]:
            block_words, block_chars = count_words(block.text), len(block.text)
            fits = (
                words + block_words <= word_budget
                and chars + block_chars <= word_budget * CHARS_PER_WORD
            )
            too_big = (
                block_words > 2 * word_budget or block_chars > 2 * word_budget * CHARS_PER_WORD
            )
            if block.open_fence or (not fits and (has_text or too_big)):
                break
            taken.append(block)
            words += block_words
            chars += block_chars
            has_text = has_text or not block.is_heading
    while taken and taken[-1].is_heading:
        taken.pop()
    return Teaser(_join(taken), taken[-1].end if taken else 0, bool(marker))


def split_teaser(source: str, word_budget: int) -> str:
    """The Markdown source of the public part of a lesson.

    With a `<!-- more -->` marker anywhere: the whole lines before its first occurrence.
    Otherwise the leading blocks while they fit in `word_budget` words and eight characters
    a word (the first text block is kept when it is longer, up to twice the budget), never
    the last block, and never ending on a heading or inside an unclosed code fence.
    """
    return teaser(source, word_budget).source


def teaser_warning(source: str, word_budget: int) -> str:
    """For a premium lesson: why its public part, cut by the word budget because it has no
    `<!-- more -->`, may not be what the author wants ("" when it looks reasonable)."""
    cut = teaser(source, word_budget)
    if cut.marker:
        return ""
    words, total = cut.words, count_words(normalise_newlines(source))
    if words == 0:
        return gettext(
            "This premium lesson has no <!-- more --> line and no teaser can be cut from it: "
            "readers without access see only its title. Put <!-- more --> on its own line "
            "where the public part should end."
        )
    if words < word_budget / 3:
        return gettext(
            "This premium lesson has no <!-- more --> line, and its automatic teaser is very "
            "short (%(words)s words). Put <!-- more --> on its own line where the public part "
            "should end."
        ) % {"words": words}
    if words > word_budget * 1.5 or words * 2 > total:
        return gettext(
            "This premium lesson has no <!-- more --> line, and its automatic teaser is very "
            "long (%(words)s of its %(total)s words are public). Put <!-- more --> on its own "
            "line where the public part should end."
        ) % {"words": words, "total": total}
    return ""


@dataclass(frozen=True)
class Preview:
    """A lesson's Markdown as the author is writing it: what `Lesson.render()` would store."""

    html: str  # the full text, with a mark where the teaser ends (premium lessons)
    reading_minutes: int
    teaser_words: int | None  # None for a free lesson, which has no teaser
    teaser_marker: bool
    warning: str
    problems: list[str]


def preview(
    source: str,
    *,
    premium: bool,
    word_budget: int,
    words_per_minute: int,
    cut_html: str,
    render: Callable[[str], str] = render,
) -> Preview:
    """Render `source` through the real pipeline for the author's live preview. For a
    premium lesson, `cut_html` (the site's own markup, not the author's) is put where the
    public teaser ends. `render` is the pipeline (lessons.models.render_markdown gives it its
    limits); it raises RenderError for text it refuses. The text is rendered once, with a
    token paragraph where the teaser ends, so a worker waits at most one time limit."""
    source = normalise_newlines(source)
    cut = teaser(source, word_budget) if premium else None
    token = f"teaser-cut-{secrets.token_hex(12)}"
    if cut is not None:
        lines = source.split("\n")
        marked = "\n".join([*lines[: cut.end_line], "", token, "", *lines[cut.end_line :]])
        rendered = render(marked)
    else:
        rendered = render(source)
    body_html = rendered.replace(f"<p>{token}</p>", "", 1)
    minutes = reading_minutes(body_html, words_per_minute)
    problems = [str(problem) for problem in diagram_problems(source)]
    problems += [str(problem) for problem in image_problems(body_html)]
    if cut is None:
        return Preview(body_html, minutes, None, False, "", problems)
    return Preview(
        rendered.replace(f"<p>{token}</p>", cut_html, 1),
        minutes,
        cut.words,
        cut.marker,
        teaser_warning(source, word_budget),
        problems,
    )
