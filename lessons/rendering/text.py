"""Rendered HTML as plain text: for the search index, and to count the words a reader
reads (the reading time, the teaser's word budget)."""

import html
import re
from html.parser import HTMLParser

_SCRIPTS_WITHOUT_SPACES = (
    "\u0e00-\u0eff\u1000-\u109f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
)
_WORD = re.compile(rf"[{_SCRIPTS_WITHOUT_SPACES}]|[^\W{_SCRIPTS_WITHOUT_SPACES}]+")

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


def count_words(text: str) -> int:
    """Words, counting each character of scripts written without spaces (Chinese, Japanese,
    Thai...) as one."""
    return len(_WORD.findall(text))


def reading_minutes(body_html: str, words_per_minute: int = 200) -> int:
    text = re.sub(r"<svg\b.*?</svg>", " ", body_html, flags=re.DOTALL)
    text = re.sub(r"<[^>]*>", " ", text)
    return max(1, round(count_words(html.unescape(text)) / words_per_minute))
