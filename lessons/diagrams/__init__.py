"""Mermaid diagrams, drawn once on the server when Markdown is rendered (at save).

A ```mermaid block becomes an inline SVG in the stored HTML, so readers download a few KB per
diagram and no diagram script. The drawing is done by beautiful-mermaid (a pinned JavaScript
bundle in `vendor/`, run in an embedded V8 from the `mini-racer` wheel, in a child process:
see engine.py); its SVG is then rebuilt from an allowlist by svg.py, so nothing an author
writes can become script.

Flowcharts, sequence and state diagrams are drawn, with `style`/`classDef` colours; a line
the renderer cannot read, an unknown diagram type, a diagram over the size or time limit is a
DiagramError naming the line, which the lesson form and `import_series` show the author.
`accTitle:` and `accDescr:` lines give the diagram's text alternative; without them it is
written from the diagram's nodes and arrows. Text is never drawn under 12 px: a wide diagram
scrolls sideways, and a wide left-to-right flowchart is also drawn top to bottom for phones.
"""

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext

from lessons.diagrams import svg as svg_module
from lessons.diagrams.engine import Engine, EngineError

MAX_SOURCE_CHARS = 10_000
MAX_SVG_CHARS = 1_000_000
TIME_LIMIT_SECONDS = 5.0
# A 390 px phone's figure (site.css: the viewport less 3rem); the widest figure (64rem); the
# viewport widths (rem) below which a narrow drawing replaces a wide one, in site.css.
PHONE_COLUMN_PX = 342
WIDEST_FIGURE_PX = 1024
NARROW_BREAKPOINTS_REM = (40, 48, 56, 64, 72)
KINDS = {
    "flowchart": "Flowchart",
    "graph": "Flowchart",
    "sequencediagram": "Sequence diagram",
    "statediagram": "State diagram",
    "statediagram-v2": "State diagram",
}
_ACC_LINE = re.compile(r"^\s*(accTitle|accDescr)\s*:\s*(.*?)\s*$")
_ACC_BLOCK = re.compile(r"^\s*accDescr\s*\{\s*(.*)$")

engine = Engine(time_limit=TIME_LIMIT_SECONDS)


class DiagramError(Exception):
    """A diagram that cannot be drawn; `line` counts from 1 at the block's first line."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class _Source:
    text: str  # what the renderer gets: accessibility lines blanked, line numbers kept
    kind: str
    title: str
    description: str


def _read(source: str) -> _Source:
    lines = source.split("\n")
    title = description = ""
    i = 0
    while i < len(lines):
        if block := _ACC_BLOCK.match(lines[i]):
            parts, start = [block[1]], i
            while "}" not in parts[-1] and i + 1 < len(lines):
                i += 1
                parts.append(lines[i])
            if "}" not in parts[-1]:
                raise DiagramError(gettext("accDescr { is never closed by }"), start + 1)
            description = " ".join(" ".join(parts).rsplit("}", 1)[0].split())
            lines[start : i + 1] = [""] * (i + 1 - start)
        elif acc := _ACC_LINE.match(lines[i]):
            if acc[1] == "accTitle":
                title = acc[2]
            else:
                description = acc[2]
            lines[i] = ""
        i += 1
    for number, line in enumerate(lines, start=1):
        words = line.split()
        if not words or words[0].startswith("%%"):
            continue
        kind = KINDS.get(words[0].lower())
        if kind is None:
            raise DiagramError(
                gettext(
                    "“%(kind)s” diagrams cannot be drawn here; use a flowchart, a sequence "
                    "diagram or a state diagram"
                )
                % {"kind": words[0]},
                number,
            )
        return _Source("\n".join(lines), kind, title, description)
    raise DiagramError(gettext("the diagram is empty"), 1)


def _line_of(source: str, text: str | None) -> int | None:
    if not text:
        return None
    wanted = text.strip()
    lines = [line.strip() for line in source.split("\n")]
    for number, line in enumerate(lines, start=1):
        if line == wanted:
            return number
    for number, line in enumerate(lines, start=1):
        if wanted and wanted in line:
            return number
    return None


@lru_cache(maxsize=256)
def _draw(text: str) -> tuple[str, str | None, int | None]:
    """("svg", svg, None) or ("error", message, line), for a diagram's source, once per
    process (an in-process LRU keyed by the source). Running out of time or memory, which
    may not happen next time, raises DiagramError instead and is not cached; so does an
    engine that cannot answer (EngineError)."""
    answer = engine.render(text)
    if "svg" in answer:
        if len(answer["svg"]) > MAX_SVG_CHARS:
            return "error", gettext("the drawing is too large; split the diagram"), None
        return "svg", answer["svg"], None
    error = answer.get("error") or "unknown error"
    if error == "timeout":
        raise DiagramError(
            gettext("it takes longer than %(seconds)s s to draw; make it smaller")
            % {"seconds": f"{TIME_LIMIT_SECONDS:g}"}
        )
    if error == "memory":
        raise DiagramError(gettext("it needs too much memory to draw; make it smaller"))
    line = answer.get("line")
    if line is None and (header := re.match(r'Invalid mermaid header: "(.*?)"\. ', error)):
        line = header[1]
    return "error", error, _line_of(text, line)


def draw(source: str, *, prefix: str) -> str:
    """The diagram as safe inline SVG, with ids under `prefix`. Raises DiagramError."""
    return _drawing(source, prefix=prefix).svg


def _drawing(source: str, *, prefix: str, css_class: str = "diagram__svg") -> svg_module.Drawing:
    if len(source) > MAX_SOURCE_CHARS:
        raise DiagramError(
            gettext("the diagram is %(size)s characters; the most is %(limit)s")
            % {"size": f"{len(source):,}", "limit": f"{MAX_SOURCE_CHARS:,}"}
        )
    read = _read(source)
    try:
        outcome, value, line = _draw(read.text)
    except EngineError as exc:
        raise DiagramError(str(exc)) from None
    if outcome == "error":
        raise DiagramError(value, line)
    root = svg_module.parse(value)
    description = read.description or " ".join(
        sentence.rstrip(".") + "." for sentence in svg_module.describe(root)
    )
    try:
        return svg_module.sanitise(
            value,
            prefix=prefix,
            title=read.title or read.kind,
            description=description,
            css_class=css_class,
        )
    except svg_module.UnsafeSvg as exc:
        raise DiagramError(
            gettext("the renderer’s drawing cannot be used (%(why)s)") % {"why": exc}
        ) from None


def _top_to_bottom(source: str) -> str | None:
    """A left-to-right flowchart turned top to bottom, or None for any other diagram."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        words = line.split()
        if not words or words[0].startswith("%%") or _ACC_LINE.match(line):
            continue
        kind, direction = [*words, ""][:2]
        if len(words) == 2 and kind.lower() in {"flowchart", "graph"} and direction in {"LR", "RL"}:
            lines[i] = f"{words[0]} TB"
            return "\n".join(lines)
        return None
    return None


def figure(source: str, *, number: int) -> str:
    """The HTML for diagram `number` of a document. Raises DiagramError.

    The drawing is shown at its size (text never under 12 px) in a figure that scrolls
    sideways when it is wider than the page. A left-to-right flowchart too wide for a phone is
    also drawn top to bottom; the page's stylesheet shows that one on screens too narrow for
    the first (a `diagram--narrow-below-N` class: below N rem), or only that one when the
    first is wider than any page."""
    prefix = f"diagram-{number}"
    wide = _drawing(source, prefix=prefix, css_class="diagram__svg diagram__svg--wide")
    narrow = None
    if wide.width > PHONE_COLUMN_PX and (turned := _top_to_bottom(source)):
        try:
            narrow = _drawing(
                turned, prefix=f"{prefix}-narrow", css_class="diagram__svg diagram__svg--narrow"
            )
        except DiagramError:
            narrow = None
    if narrow is None or narrow.width > 0.8 * wide.width:
        return f'<figure class="diagram" tabindex="0">{wide.svg}</figure>'
    if wide.width > WIDEST_FIGURE_PX:
        return f'<figure class="diagram" tabindex="0">{narrow.svg}</figure>'
    # The wide drawing fits from a viewport of its width plus the figure's margins (3rem).
    below = next(rem for rem in NARROW_BREAKPOINTS_REM if rem * 16 >= wide.width + 48)
    return (
        f'<figure class="diagram diagram--narrow-below-{below}" tabindex="0">'
        f"{wide.svg}{narrow.svg}</figure>"
    )


def failed_figure(source: str, error: DiagramError) -> str:
    """What readers see of a diagram that could not be drawn (only when a lesson was saved
    without validation): the message and the diagram's source."""
    return (
        '<figure class="diagram diagram--error">'
        "<figcaption>"
        + html.escape(gettext("This diagram could not be drawn: %(why)s") % {"why": error.message})
        + "</figcaption>"
        f"<pre><code>{html.escape(source)}</code></pre></figure>"
    )
