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
written from the diagram's nodes and arrows.
"""

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from lessons.diagrams import svg as svg_module
from lessons.diagrams.engine import Engine, EngineError

MAX_SOURCE_CHARS = 10_000
MAX_SVG_CHARS = 1_000_000
TIME_LIMIT_SECONDS = 5.0
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
                raise DiagramError("accDescr { is never closed by }", start + 1)
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
                f"“{words[0]}” diagrams cannot be drawn here; use a flowchart, "
                "a sequence diagram or a state diagram",
                number,
            )
        return _Source("\n".join(lines), kind, title, description)
    raise DiagramError("the diagram is empty", 1)


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
    process (an in-process LRU keyed by the source). An engine that cannot answer is not
    cached."""
    answer = engine.render(text)
    if "svg" in answer:
        if len(answer["svg"]) > MAX_SVG_CHARS:
            return "error", "the drawing is too large; split the diagram", None
        return "svg", answer["svg"], None
    error = answer.get("error") or "unknown error"
    if error == "timeout":
        message = f"it takes longer than {TIME_LIMIT_SECONDS:g} s to draw; make it smaller"
        return "error", message, None
    if error == "memory":
        return "error", "it needs too much memory to draw; make it smaller", None
    return "error", error, _line_of(text, answer.get("line"))


def draw(source: str, *, prefix: str) -> str:
    """The diagram as safe inline SVG, with ids under `prefix`. Raises DiagramError."""
    if len(source) > MAX_SOURCE_CHARS:
        raise DiagramError(
            f"the diagram is {len(source):,} characters; the most is {MAX_SOURCE_CHARS:,}"
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
        drawing = svg_module.sanitise(
            value, prefix=prefix, title=read.title or read.kind, description=description
        )
    except svg_module.UnsafeSvg as exc:
        raise DiagramError(f"the renderer's drawing cannot be used ({exc})") from None
    return drawing.svg


def figure(source: str, *, number: int) -> str:
    """The HTML for diagram `number` of a document: the drawing in a figure that scrolls
    sideways when it is wider than the page. Raises DiagramError."""
    svg = draw(source, prefix=f"diagram-{number}")
    return f'<figure class="diagram" tabindex="0">{svg}</figure>'


def failed_figure(source: str, error: DiagramError) -> str:
    """What readers see of a diagram that could not be drawn (only when a lesson was saved
    without validation): the message and the diagram's source."""
    return (
        '<figure class="diagram diagram--error">'
        f"<figcaption>This diagram could not be drawn: {html.escape(error.message)}</figcaption>"
        f"<pre><code>{html.escape(source)}</code></pre></figure>"
    )
