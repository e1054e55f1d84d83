"""Mermaid diagrams, drawn once on the server when Markdown is rendered (at save).

A ```mermaid block becomes an inline SVG in the stored HTML, so readers download a few KB per
diagram and no diagram script. The drawing is done by beautiful-mermaid (a pinned JavaScript
bundle in `vendor/`, run in an embedded V8 from the `mini-racer` wheel, in a child process:
see engine.py); its SVG is then rebuilt from an allowlist by svg.py, so nothing an author
writes can become script.

Flowcharts, sequence and state diagrams are drawn, with `style`/`classDef` colours; a line
the renderer cannot read, an unknown diagram type, a diagram over the size or time limit, or one
that draws nothing that can be seen is a DiagramError naming the line, which the lesson form and
`import_series` show the author.

What the renderer made of a source is remembered, in this process (within MEMO_MAX_BYTES) and
in the shared cache for every process (KEEP_SECONDS): its drawing, its error, or that it ran
out of time or memory, so a diagram too slow to draw is refused at once until its source
changes, not drawn again on every preview. New drawing work is bounded by the request's
budget (lessons.rendering.budget); a diagram the budget cut short is named as such and not
remembered as too slow.
`accTitle:` and `accDescr:` lines give the diagram's text alternative; without them it is
written from the diagram's nodes and arrows. Text is never drawn under 12 px: a wide diagram
scrolls sideways, and a wide left-to-right flowchart is also drawn top to bottom for phones.
"""

import hashlib
import html
import logging
import re
from dataclasses import dataclass
from functools import cache

from django.core.cache import cache as shared_cache
from django.utils.translation import gettext

from caching.stores import MISSING, Store
from lessons.diagrams import svg as svg_module
from lessons.diagrams.engine import BUNDLE, Engine, EngineError, OutOfTime
from lessons.rendering import budget

logger = logging.getLogger(__name__)
MAX_SOURCE_CHARS = 10_000
MAX_SVG_CHARS = 1_000_000
TIME_LIMIT_SECONDS = 5.0
MEMORY_LIMIT_BYTES = 256 * 1024 * 1024
# What the renderer made of a source is kept this long in the shared cache, and in each
# process within MEMO_MAX_BYTES (the most recently used first kept).
KEEP_SECONDS = 7 * 24 * 3600
MEMO_MAX_BYTES = 16 * 1024 * 1024
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

engine = Engine(time_limit=TIME_LIMIT_SECONDS, memory_limit=MEMORY_LIMIT_BYTES)


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
    header_line: int  # the line naming the diagram's type, from 1


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
        return _Source("\n".join(lines), kind, title, description, number)
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


# (kind, value, line): ("svg", svg, None), ("error", the renderer's message, line or None), or
# ("limit", "timeout" | "memory" | "too_large", None); the messages of limits are written when
# shown, in the reader's language.
Outcome = tuple[str, str, int | None]
# This process's outcomes, within MEMO_MAX_BYTES (caching.stores; a drawing does not depend on
# the content generation: its key names its source).
_memo = Store("diagrams", max_bytes=MEMO_MAX_BYTES, generational=False)


@cache
def _version() -> str:
    """What a drawing depends on besides its source: the renderer's bundle and the limits."""
    digest = hashlib.sha256(BUNDLE.read_bytes())
    digest.update(f"{TIME_LIMIT_SECONDS}|{MEMORY_LIMIT_BYTES}|{MAX_SVG_CHARS}".encode())
    return digest.hexdigest()[:16]


def _key(text: str) -> str:
    return f"diagram:{_version()}:{hashlib.sha256(text.encode()).hexdigest()}"


def _recalled(key: str) -> Outcome | None:
    remembered = _memo.lookup(key)
    if remembered is not MISSING:
        return remembered
    try:
        known = shared_cache.get(key)
    except Exception as error:  # the shared cache is a speed-up: without it, draw
        logger.warning("Diagram outcomes cannot be read from the cache: %s", error)
        known = None
    if not _is_outcome(known):
        return None
    _remember(key, known, share=False)
    return known


def _is_outcome(value) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and value[0] in ("svg", "error", "limit")
        and isinstance(value[1], str)
    )


def _remember(key: str, outcome: Outcome, *, share: bool = True) -> None:
    _memo.put(key, outcome)
    if share:
        try:
            shared_cache.set(key, outcome, KEEP_SECONDS)
        except Exception as error:
            logger.warning("Diagram outcomes cannot be kept in the cache: %s", error)


def forget() -> None:
    """Forget every outcome this process remembers (the shared cache keeps its own)."""
    _memo.clear()


def _draw(text: str) -> Outcome:
    """What the renderer makes of a diagram's source: remembered (see the module), else drawn
    within the diagram's limits and the request's budget. Raises DiagramError when the budget
    ran out first (nothing is remembered then), EngineError when the engine cannot answer, and
    lessons.rendering.budget.Superseded when a newer preview replaced this one."""
    key = _key(text)
    if (known := _recalled(key)) is not None:
        return known
    bound = budget.current()
    seconds, deadline, check = TIME_LIMIT_SECONDS, None, None
    if bound is not None:
        bound.check()
        seconds = bound.seconds_for(TIME_LIMIT_SECONDS)
        deadline, check = bound.deadline, bound.check
        if seconds <= 0.05:
            raise DiagramError(_out_of_budget(bound))
    try:
        answer = engine.render(text, seconds=seconds, deadline=deadline, check=check)
    except OutOfTime:
        raise DiagramError(_out_of_budget(bound)) from None
    if "svg" in answer:
        if len(answer["svg"]) > MAX_SVG_CHARS:
            outcome = ("limit", "too_large", None)
        else:
            outcome = ("svg", answer["svg"], None)
    elif (error := answer.get("error") or "unknown error") in ("timeout", "memory"):
        if error == "timeout" and seconds < TIME_LIMIT_SECONDS:
            raise DiagramError(_out_of_budget(bound))  # cut short: it may fit next time
        outcome = ("limit", error, None)
    else:
        line = answer.get("line")
        if line is None and (header := re.match(r'Invalid mermaid header: "(.*?)"\. ', error)):
            line = header[1]
        outcome = ("error", error, _line_of(text, line))
    _remember(key, outcome)
    return outcome


def _limit_message(limit: str) -> str:
    if limit == "timeout":
        return gettext("it takes longer than %(seconds)s s to draw; make it smaller") % {
            "seconds": f"{TIME_LIMIT_SECONDS:g}"
        }
    if limit == "memory":
        return gettext("it needs too much memory to draw; make it smaller")
    return gettext("the drawing is too large; split the diagram")


def _out_of_budget(bound) -> str:
    return gettext(
        "the %(seconds)s s this request may spend rendering ran out before it; preview or "
        "save again to draw it (diagrams already drawn are kept)"
    ) % {"seconds": f"{bound.seconds:g}"}


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
    if outcome == "limit":
        raise DiagramError(_limit_message(value))
    try:
        root = svg_module.parse(value)
        description = read.description or " ".join(
            sentence.rstrip(".") + "." for sentence in svg_module.describe(root)
        )
        drawing = svg_module.sanitise(
            value,
            prefix=prefix,
            title=read.title or read.kind,
            description=description,
            css_class=css_class,
        )
    except svg_module.NothingDrawn:
        raise DiagramError(_nothing_drawn(), read.header_line) from None
    except svg_module.UnsafeSvg as exc:
        raise DiagramError(
            gettext("the renderer’s drawing cannot be used (%(why)s)") % {"why": exc}
        ) from None
    return drawing


def _nothing_drawn() -> str:
    return gettext(
        "it draws nothing that can be seen; give it at least one node with a label, or an "
        "arrow between two"
    )


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
    the first (a `diagram--narrow-below-N` class: below N rem). When the first is wider than
    any page, the top-to-bottom drawing is the figure's only one, shown at every width: the
    class that hides a narrow drawing on wide screens is never on a figure's only drawing."""
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
        alone = _drawing(turned, prefix=prefix)
        return f'<figure class="diagram" tabindex="0">{alone.svg}</figure>'
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
