"""The one Markdown pipeline: Python-Markdown, then the sanitiser (lessons.rendering.sanitiser),
then the diagrams drawn into their slots.

Everything an author writes (lesson bodies, teasers, series descriptions, other apps' texts
about a series) goes through `render()`, once, when it is saved. Pages never render Markdown.
`render_text()` is the part whose cost depends on the text: it refuses what passes the limits
(lessons.rendering.limits) and may run in a child process with a time limit
(lessons.rendering.bounded); `draw()` then draws each diagram within its own limits.
"""

import html
import re
import secrets
from dataclasses import dataclass

import markdown
from django.conf import settings
from django.utils.translation import gettext
from markdown.extensions import Extension
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.toc import TocExtension, slugify_unicode
from markdown.preprocessors import Preprocessor

from lessons import diagrams
from lessons.rendering.limits import RenderError, check_source
from lessons.rendering.sanitiser import sanitize
from lessons.rendering.source import fences, normalise_newlines
from lessons.rendering.teaser import split_teaser


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
        for start, end, language in fences(lines):
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
        clean = _scrollable(_images(sanitize(converter.convert(normalise_newlines(source)))))
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
    """A short text (a series' description, another app's text about a series):
    render_text() without heading anchors."""
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


IMG = re.compile(r"<img\b([^>]*?)/?>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
# Uploaded images are stored under names that carry their size (lessons.images), so the
# pipeline can give every one its width and height without opening a file.
_SIZED_NAME = re.compile(r"-(\d{1,5})x(\d{1,5})\.(?:png|jpe?g|gif|webp)$")
# After sanitising, which lets no author attribute through on these: the bare start tags.
SCROLLABLE = re.compile(r"<(pre|table)>")


def _scrollable(clean: str) -> str:
    """Code blocks and tables scroll sideways inside themselves when wider than the page
    (as diagrams do): each can take the keyboard's focus, so arrow keys scroll it."""
    return SCROLLABLE.sub(r'<\1 tabindex="0">', clean)


def _images(clean: str) -> str:
    """Every image loads lazily; an uploaded one gets its width and height, so the page
    does not jump as it arrives."""

    def rewrite(match: re.Match) -> str:
        attributes = dict(ATTRIBUTE.findall(match[1]))
        src = html.unescape(attributes.get("src", ""))
        if src.startswith(settings.MEDIA_URL) and (size := _SIZED_NAME.search(src)):
            attributes.setdefault("width", size[1])
            attributes.setdefault("height", size[2])
        attributes["loading"] = "lazy"
        attributes["decoding"] = "async"
        return "<img " + " ".join(f'{name}="{value}"' for name, value in attributes.items()) + ">"

    return IMG.sub(rewrite, clean)
