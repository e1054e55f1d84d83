"""The sanitiser: bleach with an explicit allowlist of tags, attributes, classes, ids and
link schemes; everything else is escaped. Every text an author writes passes here before it
is stored."""

import re

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
