"""The one Markdown pipeline: Python-Markdown, then bleach with an explicit allowlist.

Everything an author writes (lesson bodies, teasers, series descriptions, paywall messages)
goes through `render()`, once, when it is saved. Pages never render Markdown.

`split_teaser()` finds the public part of a lesson's source: everything before a
`<!-- more -->` line, or else the leading blocks up to a word budget, never cutting
inside a list, table, block quote or code block, and never the whole body.
"""

import html
import re
from dataclasses import dataclass

import bleach
import markdown
from markdown.extensions import Extension
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.toc import TocExtension
from markdown.preprocessors import Preprocessor

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
_TOKEN = re.compile(r"^[A-Za-z][\w:.-]{0,80}$")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in _PER_TAG.get(tag, ()):
        return True
    if name == "id":
        return bool(_TOKEN.match(value))
    if name == "class":
        return all(_TOKEN.match(token) for token in value.split())
    return False


MORE_MARKER = re.compile(r"^[ \t]*<!--[ \t]*more[ \t]*-->[ \t]*$", re.IGNORECASE)
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_MERMAID_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*mermaid[ \t]*\n(?P<code>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_LIST_ITEM = re.compile(r"^[ \t]{0,3}([-*+]|\d{1,9}[.)])[ \t]+")
_HEADING = re.compile(r"^#{1,6}[ \t]")
_WORD = re.compile(r"\w+")


class _MermaidPreprocessor(Preprocessor):
    """Turn ```mermaid fences into <pre class="mermaid"> before code highlighting sees them."""

    def run(self, lines):
        text = "\n".join(lines)

        def stash(match):
            block = '<pre class="mermaid">' + html.escape(match["code"]) + "</pre>"
            return "\n\n" + self.md.htmlStash.store(block) + "\n\n"

        return _MERMAID_FENCE.sub(stash, text).split("\n")


class _MermaidExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(_MermaidPreprocessor(md), "mermaid", 30)


def _converter() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            _MermaidExtension(),
            "fenced_code",
            "tables",
            "footnotes",
            "sane_lists",
            TocExtension(permalink="#", permalink_title="Link to this section", toc_depth="2-4"),
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
    """Markdown source to safe HTML."""
    return sanitize(_converter().convert(source or ""))


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def reading_minutes(body_html: str, words_per_minute: int = 200) -> int:
    text = re.sub(r"<[^>]*>", " ", body_html)
    return max(1, round(count_words(html.unescape(text)) / words_per_minute))


def has_diagram(body_html: str) -> bool:
    return '<pre class="mermaid">' in body_html


@dataclass
class _Block:
    lines: list[str]

    @property
    def text(self) -> str:
        return "".join(self.lines)

    @property
    def first(self) -> str:
        return self.lines[0]

    @property
    def is_heading(self) -> bool:
        return bool(_HEADING.match(self.first))


def _blocks(source: str) -> tuple[list[_Block], int | None]:
    """Split source into top-level blocks; return them and the index of a `<!-- more -->` line.

    A block is a run of lines between blank lines, with fenced code kept whole, and with
    indented continuations and the items of a loose list joined to the block they belong to.
    """
    blocks: list[_Block] = []
    current: list[str] = []
    fence: str | None = None
    marker: int | None = None

    def close():
        nonlocal current
        if not current:
            return
        prev = blocks[-1] if blocks else None
        continues = prev is not None and (
            current[0][:1] in (" ", "\t")
            or (_LIST_ITEM.match(prev.first) and _LIST_ITEM.match(current[0]))
        )
        if continues and (marker is None or marker < len(blocks)):
            prev.lines.extend(["\n", *current])
        else:
            blocks.append(_Block(current))
        current = []

    for line in source.splitlines(keepends=True):
        if fence:
            current.append(line)
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            continue
        opening = _FENCE_OPEN.match(line)
        if opening:
            fence = opening[1]
            current.append(line)
        elif MORE_MARKER.match(line) and marker is None:
            close()
            marker = len(blocks)
        elif not line.strip():
            close()
        else:
            current.append(line)
    close()
    return blocks, marker


def split_teaser(source: str, word_budget: int) -> str:
    """The Markdown source of the public part of a lesson.

    Everything before a `<!-- more -->` line when there is one. Otherwise the leading
    blocks while they fit in `word_budget` words (the first text block is kept even when it
    is longer, up to twice the budget), never the last block, and never ending on a heading.
    """
    blocks, marker = _blocks(source or "")
    if marker is not None:
        taken = blocks[:marker]
    else:
        taken = []
        words = 0
        has_text = False
        for block in blocks[:-1]:
            block_words = count_words(block.text)
            fits = words + block_words <= word_budget
            if not fits and (has_text or block_words > 2 * word_budget):
                break
            taken.append(block)
            words += block_words
            has_text = has_text or not block.is_heading
        while taken and taken[-1].is_heading:
            taken.pop()
    return "\n".join(block.text.rstrip("\n") + "\n" for block in taken)


def strip_marker(source: str) -> str:
    """The source without its `<!-- more -->` line (bleach would drop the comment anyway)."""
    blocks, marker = _blocks(source or "")
    if marker is None:
        return source or ""
    return "\n".join(block.text.rstrip("\n") + "\n" for block in blocks)
