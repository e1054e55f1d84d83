"""The one Markdown pipeline: Python-Markdown, then bleach with an explicit allowlist.

Everything an author writes (lesson bodies, teasers, series descriptions, paywall messages)
goes through `render()`, once, when it is saved. Pages never render Markdown.

`split_teaser()` finds the public part of a lesson's source: everything before the first
`<!-- more -->`, or else the leading blocks up to a word budget, never cutting inside a list,
table, block quote or code block, and never the whole body.
"""

import html
import re
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser

import bleach
import markdown
from django.utils.translation import gettext
from markdown.extensions import Extension
from markdown.extensions.codehilite import CodeHiliteExtension
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
    "img": {"src", "alt", "title", "width", "height"},
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
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if opening:
            fence = opening["fence"]
            for j in range(i + 1, len(lines)):
                if lines[j].rstrip() == fence:
                    yield i, j, opening["lang"].lower()
                    i = j
                    break
        i += 1


class _MermaidPreprocessor(Preprocessor):
    """Draw ```mermaid fences as SVG (lessons.diagrams) before code highlighting sees them.

    The drawing is not given to the HTML sanitiser, which does not know SVG: the block leaves
    a placeholder, unguessable per render, that render() replaces after sanitising with the
    SVG that lessons.diagrams already rebuilt from its own allowlist. Other fences (a
    Markdown example that shows a mermaid fence, say) are left alone."""

    def __init__(self, md, figures: dict[str, str], token: str):
        super().__init__(md)
        self.figures = figures
        self.token = token

    def run(self, lines):
        out, last, number = [], 0, 0
        for start, end, language in _fences(lines):
            if language != "mermaid":
                continue
            number += 1
            code = "\n".join(lines[start + 1 : end])
            try:
                block = diagrams.figure(code, number=number)
            except diagrams.DiagramError as error:
                block = diagrams.failed_figure(code, error)
            placeholder = f"{self.token}-{number}"
            self.figures[f"<p>{placeholder}</p>"] = block
            out += [*lines[last:start], "", self.md.htmlStash.store(f"<p>{placeholder}</p>"), ""]
            last = end + 1
        return out + lines[last:]


class _MermaidExtension(Extension):
    def __init__(self):
        super().__init__()
        self.figures: dict[str, str] = {}
        self.token = f"diagram-slot-{secrets.token_hex(12)}"

    def extendMarkdown(self, md):
        md.preprocessors.register(_MermaidPreprocessor(md, self.figures, self.token), "mermaid", 30)


def _converter(mermaid: _MermaidExtension) -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            mermaid,
            "fenced_code",
            "tables",
            "footnotes",
            "sane_lists",
            TocExtension(
                permalink="#",
                permalink_title="Link to this section",
                toc_depth="2-4",
                slugify=slugify_unicode,
            ),
            CodeHiliteExtension(css_class="highlight", guess_lang=False),
        ],
        extension_configs={"tables": {"use_align_attribute": True}},
        output_format="html",
    )


def sanitize(dirty_html: str) -> str:
    """Keep only allowlisted tags, attributes and link schemes; escape everything else."""
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


def render(source: str) -> str:
    """Markdown source to safe HTML, with diagrams drawn as inline SVG. HTML comments, the
    `<!-- more -->` marker among them, are dropped."""
    mermaid = _MermaidExtension()
    clean = sanitize(_converter(mermaid).convert(normalise_newlines(source)))
    for placeholder, figure in mermaid.figures.items():
        clean = clean.replace(placeholder, figure, 1)
    return clean


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
    open_fence: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def first(self) -> str:
        return self.lines[0]

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
            prev.lines.extend(["", *current])
        else:
            blocks.append(_Block(current))
        current = []

    i = 0
    while i < len(lines):
        line = lines[i]
        if i in fenced:
            current.extend(lines[i : fenced[i] + 1])
            i = fenced[i] + 1
            continue
        if _FENCE_OPEN.match(line):
            # A fence that never closes: Markdown shows it as text; keep it apart and mark it.
            close()
            blocks.append(_Block(lines[i:], open_fence=True))
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


def split_teaser(source: str, word_budget: int) -> str:
    """The Markdown source of the public part of a lesson.

    With a `<!-- more -->` marker anywhere: the whole lines before its first occurrence.
    Otherwise the leading blocks while they fit in `word_budget` words and eight characters
    a word (the first text block is kept when it is longer, up to twice the budget), never
    the last block, and never ending on a heading or inside an unclosed code fence.
    """
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
    return _join(taken)
