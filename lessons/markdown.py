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

import bleach
import markdown
from django.conf import settings
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


def code_lines(lines: list[str]) -> set[int]:
    """Indexes of the lines inside fenced code blocks (fences included)."""
    inside: set[int] = set()
    for start, end, _ in _fences(lines):
        inside.update(range(start, end + 1))
    return inside


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
    clean = _images(sanitize(_converter(mermaid).convert(normalise_newlines(source))))
    for placeholder, figure in mermaid.figures.items():
        clean = clean.replace(placeholder, figure, 1)
    return clean


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
    source: str, *, premium: bool, word_budget: int, words_per_minute: int, cut_html: str
) -> Preview:
    """Render `source` through the real pipeline for the author's live preview. For a
    premium lesson, `cut_html` (the site's own markup, not the author's) is put where the
    public teaser ends."""
    source = normalise_newlines(source)
    body_html = render(source)
    minutes = reading_minutes(body_html, words_per_minute)
    problems = [str(problem) for problem in diagram_problems(source)]
    problems += [str(problem) for problem in image_problems(body_html)]
    if not premium:
        return Preview(body_html, minutes, None, False, "", problems)
    cut = teaser(source, word_budget)
    token = f"teaser-cut-{secrets.token_hex(12)}"
    lines = source.split("\n")
    marked = "\n".join([*lines[: cut.end_line], "", token, "", *lines[cut.end_line :]])
    html_with_cut = render(marked).replace(f"<p>{token}</p>", cut_html, 1)
    return Preview(
        html_with_cut,
        minutes,
        cut.words,
        cut.marker,
        teaser_warning(source, word_budget),
        problems,
    )
