"""Untrusted SVG in, safe inline SVG out.

The renderer's SVG is treated like any author input (its labels are the author's text): it is
parsed and rebuilt from an allowlist, never passed through. What comes out has

- only drawing elements (svg, g, defs, marker, shapes, text, tspan) and the `<title>` and
  `<desc>` written here: no script, style, foreignObject, a, use, image, animate...;
- only geometry and presentation attributes whose values match a strict pattern: no event
  handlers, no href of any kind, no `style` attribute, no url() other than a marker reference
  to an id inside the same diagram;
- ids renamed under a prefix, so two diagrams on a page cannot collide;
- the renderer's theme colours (CSS variables) turned into `dg-*` classes that the site's
  stylesheet colours for light and dark mode, with the light colour kept as a presentation
  attribute for readers without the stylesheet; colours the author chose stay as they are,
  and text on an author-coloured shape gets a colour that contrasts with it;
- a width and height at which its smallest text is at least 12 px;
- `role="img"` with a `<title>` and a `<desc>` (the diagram's nodes and arrows in words) for
  screen readers;
- something to see: a drawing with no labelled text and no shape of any size outside its
  markers, or no larger than the renderer's margins, is refused (NothingDrawn), never shown as
  an empty box.

The page's Content Security Policy allows no inline style, so nothing here relies on `<style>`
or `style=""`: presentation attributes and classes only.
"""

import html
import math
import re
from dataclasses import dataclass
from xml.etree import ElementTree

SVG_NS = "http://www.w3.org/2000/svg"
MIN_TEXT_PX = 12
# The renderer draws an 8-unit margin around everything: a drawing no larger than this in
# either direction holds nothing a reader can see.
MIN_DRAWING_UNITS = 24

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_LENGTH = re.compile(rf"^{_NUMBER}(?:px|em|%)?$")
_NUMBER_ONLY = re.compile(rf"^{_NUMBER}$")
_NUMBER_LIST = re.compile(rf"^\s*{_NUMBER}(?:\s*,?\s*{_NUMBER})*\s*$")
_PATH_DATA = re.compile(r"^[MmLlHhVvCcSsQqTtAaZz0-9eE.,+\-\s]*$")
_TRANSFORM = re.compile(
    rf"^\s*(?:(?:translate|scale|rotate|matrix|skewX|skewY)\(\s*{_NUMBER}"
    rf"(?:\s*,?\s*{_NUMBER})*\s*\)\s*,?\s*)+$"
)
_COLOR = re.compile(
    r"^(?:#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,30}"
    r"|rgba?\(\s*[\d.]+%?\s*(?:,\s*[\d.]+%?\s*){2,3}\)"
    r"|hsla?\(\s*[\d.]+(?:deg)?\s*(?:,\s*[\d.]+%?\s*){2,3}\))$"
)
_NUMBER_RE = re.compile(_NUMBER)
_THEME_VAR = re.compile(r"^var\(\s*(--[\w-]+)\s*\)$")
_MARKER_REF = re.compile(r"^url\(\s*#([\w-]+)\s*\)$")
_ID = re.compile(r"^[\w-]{1,60}$")


def _rounded(match: re.Match) -> str:
    """Coordinates to two decimals: 346.88800000000003 is 346.89."""
    return f"{float(match[0]):.2f}".rstrip("0").rstrip(".")


def _keyword(*words):
    allowed = frozenset(words)
    return lambda value: value in allowed


def _pattern(regex):
    return lambda value: bool(regex.match(value))


_length = _pattern(_LENGTH)
_number = _pattern(_NUMBER_ONLY)
_GEOMETRY = {
    **dict.fromkeys(
        ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "dx", "dy"], _length
    ),
    "width": _length,
    "height": _length,
    "points": _pattern(_NUMBER_LIST),
    "d": _pattern(_PATH_DATA),
    "transform": _pattern(_TRANSFORM),
}
_PRESENTATION = {
    "stroke-width": _length,
    "stroke-dasharray": lambda value: value == "none" or bool(_NUMBER_LIST.match(value)),
    "stroke-linecap": _keyword("butt", "round", "square"),
    "stroke-linejoin": _keyword("miter", "round", "bevel"),
    "opacity": _number,
    "fill-opacity": _number,
    "stroke-opacity": _number,
    "text-anchor": _keyword("start", "middle", "end"),
    "dominant-baseline": _keyword("auto", "middle", "central", "hanging", "alphabetic"),
    "font-size": _pattern(re.compile(rf"^{_NUMBER}(?:px)?$")),  # px: it sets the scale
    "font-weight": _keyword(
        "normal", "bold", "bolder", "lighter", *(str(w) for w in range(100, 1000, 100))
    ),
    "font-style": _keyword("normal", "italic", "oblique"),
    "text-decoration": _keyword("none", "underline", "line-through", "overline"),
}
_MARKER = {
    "viewBox": _pattern(_NUMBER_LIST),
    "refX": _number,
    "refY": _number,
    "markerWidth": _number,
    "markerHeight": _number,
    "markerUnits": _keyword("strokeWidth", "userSpaceOnUse"),
    "orient": lambda value: (
        value in ("auto", "auto-start-reverse") or bool(_NUMBER_ONLY.match(value))
    ),
}
_SHAPE = {**_GEOMETRY, **_PRESENTATION}
ELEMENTS = {
    "svg": {},  # the root's attributes are written here, not copied
    "g": _PRESENTATION,
    "defs": {},
    "marker": {**_MARKER, **_PRESENTATION},
    "path": _SHAPE,
    "rect": _SHAPE,
    "circle": _SHAPE,
    "ellipse": _SHAPE,
    "line": _SHAPE,
    "polyline": _SHAPE,
    "polygon": _SHAPE,
    "text": _SHAPE,
    "tspan": _SHAPE,
}
_TEXT_ELEMENTS = {"text", "tspan"}
_SHAPES = {"path", "rect", "circle", "ellipse", "polygon"}
_PAINT = ("fill", "stroke")
_MARKER_REFS = ("marker-start", "marker-mid", "marker-end")
# Classes of the renderer that mean something the site's stylesheet draws.
_KEPT_CLASSES = {"mono": "dg-mono"}

# The renderer's theme: every colour is mixed from a background and a foreground. Its default
# light colours are kept as presentation attributes; the classes follow the site's theme.
_LIGHT_BG, _LIGHT_FG = (255, 255, 255), (0x27, 0x27, 0x2A)
_THEME_MIX = {
    "--fg": 100, "--bg": 0, "--_text": 100, "--_text-sec": 60, "--_text-muted": 40,
    "--_text-faint": 25, "--_line": 50, "--_arrow": 85, "--_node-fill": 3,
    "--_node-stroke": 20, "--_group-fill": 0, "--_group-hdr": 5, "--_inner-stroke": 12,
    "--_key-badge": 10,
}  # fmt: skip


def _mix(percent: int) -> str:
    channels = (
        round(fg * percent / 100 + bg * (100 - percent) / 100)
        for fg, bg in zip(_LIGHT_FG, _LIGHT_BG, strict=True)
    )
    return "#" + "".join(f"{channel:02x}" for channel in channels)


THEME = {name: (name.strip("-_"), _mix(percent)) for name, percent in _THEME_MIX.items()}

_NAMED = {
    "black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "green": (0, 128, 0),
    "blue": (0, 0, 255), "yellow": (255, 255, 0), "orange": (255, 165, 0),
    "purple": (128, 0, 128), "gray": (128, 128, 128), "grey": (128, 128, 128),
    "pink": (255, 192, 203), "cyan": (0, 255, 255), "magenta": (255, 0, 255),
    "lime": (0, 255, 0), "navy": (0, 0, 128), "teal": (0, 128, 128), "maroon": (128, 0, 0),
    "olive": (128, 128, 0), "silver": (192, 192, 192), "gold": (255, 215, 0),
    "lightblue": (173, 216, 230), "lightgreen": (144, 238, 144), "lightgray": (211, 211, 211),
    "lightgrey": (211, 211, 211), "darkblue": (0, 0, 139), "darkgreen": (0, 100, 0),
    "darkred": (139, 0, 0), "brown": (165, 42, 42), "beige": (245, 245, 220),
    "lavender": (230, 230, 250), "salmon": (250, 128, 114), "coral": (255, 127, 80),
    "khaki": (240, 230, 140), "ivory": (255, 255, 240), "tomato": (255, 99, 71),
}  # fmt: skip
_DARK_TEXT, _LIGHT_TEXT = "#111111", "#ffffff"


class UnsafeSvg(ValueError):
    """The renderer's output could not be read as SVG."""


class NothingDrawn(UnsafeSvg):
    """The renderer's drawing holds nothing a reader could see."""


@dataclass
class Drawing:
    svg: str
    width: float
    height: float


def _rgb(color: str) -> tuple[int, int, int] | None:
    color = color.strip().lower()
    if color in _NAMED:
        return _NAMED[color]
    if color.startswith("#") and len(color) in (4, 5, 7, 9):
        digits = color[1:]
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits[:3])
        try:
            return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            return None
    if match := re.match(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)", color):
        return tuple(min(255, round(float(v))) for v in match.groups())
    return None


def _luminance(rgb: tuple[int, int, int]) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_color_on(fill: str) -> str | None:
    """The more readable of near-black and white on `fill`, or None when it is not a colour
    this can read."""
    rgb = _rgb(fill)
    if rgb is None:
        return None
    lum = _luminance(rgb)
    return _DARK_TEXT if (lum + 0.05) / 0.06 >= 1.05 / (lum + 0.05) else _LIGHT_TEXT


def _local(tag) -> str | None:
    """The SVG element name of an ElementTree tag, or None for another namespace."""
    if not isinstance(tag, str):
        return None  # comments, processing instructions
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return name if namespace == SVG_NS else None
    return tag


def parse(svg_text: str) -> ElementTree.Element:
    if re.search(r"<!(?:DOCTYPE|ENTITY)", svg_text, re.IGNORECASE):
        raise UnsafeSvg("a document type or entity declaration")
    try:
        root = ElementTree.fromstring(svg_text)  # noqa: S314 (no DTD, so no entities)
    except ElementTree.ParseError as exc:
        raise UnsafeSvg(str(exc)) from None
    if _local(root.tag) != "svg":
        raise UnsafeSvg("the root element is not <svg>")
    return root


def describe(root: ElementTree.Element) -> list[str]:
    """The diagram in words, from the renderer's data attributes: one sentence per arrow
    ("A to B: label"), then the nodes no arrow touches."""
    labels: dict[str, str] = {}
    for element in root.iter():
        if "data-id" in element.attrib:
            label = element.get("data-label") or element.get("data-id")
            labels.setdefault(element.get("data-id"), " ".join(label.split()))
    sentences, seen, connected = [], set(), set()
    for element in root.iter():
        source, target = element.get("data-from"), element.get("data-to")
        if source is None or target is None:
            continue
        label = " ".join((element.get("data-label") or "").split())
        key = (source, target, label)
        if key in seen:
            continue
        seen.add(key)
        connected.update((source, target))
        sentence = f"{labels.get(source, source)} to {labels.get(target, target)}"
        sentences.append(f"{sentence}: {label}" if label else sentence)
    alone = [
        label
        for node_id, label in labels.items()
        if node_id not in connected and label and not node_id.startswith(("_start", "_end"))
    ]
    if alone:
        sentences.append(", ".join(alone))
    return sentences


class _Builder:
    def __init__(self, prefix: str, ids: set[str]):
        self.prefix = prefix
        self.ids = ids
        self.font_sizes: list[float] = []

    def new_id(self, value: str) -> str:
        return f"{self.prefix}-{value}"

    def paint(self, name: str, value: str, attrs: dict, classes: list[str]) -> None:
        value = value.strip()
        if theme := _THEME_VAR.match(value):
            if theme[1] in THEME:
                token, light = THEME[theme[1]]
                attrs[name] = light
                classes.append(f"dg-{name}-{token}")
        elif value == "none" or _COLOR.match(value):
            attrs[name] = value

    def attributes(self, name: str, element: ElementTree.Element) -> tuple[dict, list[str]]:
        allowed = ELEMENTS[name]
        attrs: dict[str, str] = {}
        classes: list[str] = []
        for key, value in element.attrib.items():
            if key.startswith("{"):
                continue  # xlink:href, xml:base and every other namespaced attribute
            if key in _PAINT:
                self.paint(key, value, attrs, classes)
            elif key in _MARKER_REFS:
                ref = _MARKER_REF.match(value.strip())
                if ref and ref[1] in self.ids:
                    attrs[key] = f"url(#{self.new_id(ref[1])})"
            elif key == "id":
                if _ID.match(value):
                    attrs["id"] = self.new_id(value)
            elif key == "class":
                classes += [_KEPT_CLASSES[c] for c in value.split() if c in _KEPT_CLASSES]
            elif key in allowed and allowed[key](value.strip()):
                value = value.strip()
                if key in _GEOMETRY or key in _MARKER:
                    value = _NUMBER_RE.sub(_rounded, value)
                attrs[key] = value
        if name in _TEXT_ELEMENTS:
            if "font-size" in attrs:
                self.font_sizes.append(float(re.match(_NUMBER, attrs["font-size"])[0]))
            if name == "text" and "fill" not in attrs:
                self.paint("fill", "var(--_text)", attrs, classes)
        return attrs, classes

    def build(self, element: ElementTree.Element) -> list | None:
        """[name, attributes, classes, text, children] of an allowed element, or None."""
        name = _local(element.tag)
        if name is None or name not in ELEMENTS or name == "svg":
            return None
        attrs, classes = self.attributes(name, element)
        text = (element.text or "") if name in _TEXT_ELEMENTS else ""
        children = []
        for child in element:
            built = self.build(child)
            if built is not None:
                children.append(built)
            if name in _TEXT_ELEMENTS and child.tail:
                children.append(child.tail)
        return [name, attrs, classes, text, children]


def _themed(node, prefix: str) -> bool:
    return any(c.startswith(prefix) for c in node[2])


def _keep_author_colours_readable(node) -> None:
    """Text on a shape the author coloured must not follow the dark theme (light text on a
    pale author colour), and neither may a shape under text the author coloured."""
    if not isinstance(node, list):
        return
    for child in node[4]:
        _keep_author_colours_readable(child)
    if node[0] != "g":
        return
    texts = [c for c in node[4] if isinstance(c, list) and c[0] == "text"]
    shapes = [c for c in node[4] if isinstance(c, list) and c[0] in _SHAPES]
    if not texts or not shapes:
        return
    shape = shapes[0]
    fill = shape[1].get("fill")
    if not _themed(shape, "dg-fill-") and fill not in (None, "none"):
        contrast = text_color_on(fill) or _DARK_TEXT
        for text in texts:
            if _themed(text, "dg-fill-"):
                text[2] = [c for c in text[2] if not c.startswith("dg-fill-")]
                text[1]["fill"] = contrast
    elif _themed(shape, "dg-fill-"):
        author = [t[1]["fill"] for t in texts if not _themed(t, "dg-fill-") and "fill" in t[1]]
        if author:
            rgb = _rgb(author[0])
            shape[2] = [c for c in shape[2] if not c.startswith("dg-fill-")]
            shape[1]["fill"] = "#1f2328" if rgb and _luminance(rgb) > 0.4 else "#ffffff"


def _positive(attrs: dict, *names: str) -> bool:
    try:
        return all(float(re.match(_NUMBER, attrs.get(name, "0"))[0]) > 0 for name in names)
    except (TypeError, ValueError):
        return False


def _visible(node) -> bool:
    """Whether a built node (or one inside it) is something a reader can see: text with a
    letter, digit or symbol in it, or a shape with a size. Markers (arrowheads) do not count:
    they show only on a line."""
    if isinstance(node, str):
        return bool(node.strip())
    name, attrs, _, text, children = node
    if name in ("defs", "marker"):
        return False
    if name in _TEXT_ELEMENTS:
        return bool(text.strip()) or any(_visible(child) for child in children)
    if name == "rect":
        return _positive(attrs, "width", "height")
    if name == "circle":
        return _positive(attrs, "r")
    if name == "ellipse":
        return _positive(attrs, "rx", "ry")
    if name in ("path", "polygon", "polyline"):
        return len(_NUMBER_RE.findall(attrs.get("d") or attrs.get("points") or "")) >= 4
    if name == "line":
        return any(attrs.get(a, "0") != attrs.get(b, "0") for a, b in (("x1", "x2"), ("y1", "y2")))
    return any(_visible(child) for child in children)


def _serialise(node) -> str:
    if isinstance(node, str):
        return html.escape(node, quote=False)
    name, attrs, classes, text, children = node
    if classes:
        attrs = {**attrs, "class": " ".join(dict.fromkeys(classes))}
    attributes = "".join(f' {key}="{html.escape(value)}"' for key, value in attrs.items())
    inner = html.escape(text, quote=False) + "".join(_serialise(child) for child in children)
    if not inner:
        return f"<{name}{attributes}/>"
    return f"<{name}{attributes}>{inner}</{name}>"


def sanitise(
    svg_text: str, *, prefix: str, title: str, description: str, css_class: str = "diagram__svg"
) -> Drawing:
    """Rebuild the renderer's SVG from the allowlist, sized and labelled (see the module)."""
    root = parse(svg_text)
    ids = {
        element.get("id")
        for element in root.iter()
        if element.get("id") and _ID.match(element.get("id"))
    }
    builder = _Builder(prefix, ids)
    children = [built for child in root if (built := builder.build(child)) is not None]
    for child in children:
        _keep_author_colours_readable(child)

    view_box = (root.get("viewBox") or "").strip()
    numbers = _NUMBER_LIST.match(view_box) and [float(n) for n in _NUMBER_RE.findall(view_box)]
    if not numbers or len(numbers) != 4 or numbers[2] < 0 or numbers[3] < 0:
        raise UnsafeSvg("no usable viewBox")
    if min(numbers[2:]) < MIN_DRAWING_UNITS or not any(_visible(child) for child in children):
        raise NothingDrawn("nothing visible")
    scale = max(1.0, MIN_TEXT_PX / min(builder.font_sizes, default=MIN_TEXT_PX))
    width, height = (math.ceil(n * scale * 10) / 10 for n in numbers[2:])
    title_id, desc_id = f"{prefix}-title", f"{prefix}-desc"
    root_attrs = {
        "xmlns": SVG_NS,
        "viewBox": " ".join(f"{n:g}" for n in numbers),
        "width": f"{width:g}",
        "height": f"{height:g}",
        "role": "img",
        "aria-labelledby": title_id,
        "aria-describedby": desc_id,
        "class": css_class,
    }
    head = [
        ["title", {"id": title_id}, [], title, []],
        ["desc", {"id": desc_id}, [], description, []],
    ]
    svg = _serialise(["svg", root_attrs, [], "", head + children])
    return Drawing(svg=svg, width=width, height=height)
