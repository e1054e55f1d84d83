"""The Markdown pipeline: what authors can write, and what hostile input cannot do."""

import re
from html.parser import HTMLParser

import pytest

from lessons.rendering.pipeline import draw, render, render_short_text
from lessons.rendering.text import reading_minutes

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">click</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](DATA:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox(1))",
    "[click][evil]\n\n[evil]: javascript:alert(1)",
    '[click][evil]\n\n[evil]: JAVASCRIPT:alert(1) "title"',
    "<javascript:alert(1)>",
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="  JaVaScRiPt:alert(1)">x</a>',
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<form action="https://evil.example"><input name=pin></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<a href="https://ok.example" target="_blank" onfocus="alert(1)" autofocus>x</a>',
    '```mermaid\nflowchart LR\n A["<img src=x onerror=alert(1)>"] --> B\n```',
    '```mermaid\nflowchart LR\n A["<svg onload=alert(1)>"] -->|"<a href=javascript:x>"| B\n```',
    "```mermaid\n</pre><script>alert(1)</script>\n```",
    "```mermaid\nflowchart LR\n A --> B\n click A call alert(1)\n```",
    '<pre class="mermaid">click A call alert(1)</pre><script>1</script>',
    '<figure class="diagram"><svg onload="alert(1)"><script>alert(1)</script></svg></figure>',
    "<!-- a comment --><p>kept</p>",
    '<div id="x" class="highlight" data-x="1" aria-hidden="true">attrs</div>',
]

FORBIDDEN_TAGS = {
    "script", "iframe", "object", "embed", "style", "form", "input", "meta", "base", "link",
    "svg", "math",
}  # fmt: skip
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
# What a diagram drawn by the pipeline may hold (lessons/diagrams/svg.py); authors' own <svg>
# is escaped like any other tag outside the allowlist.
DIAGRAM_TAGS = {
    "svg", "title", "desc", "g", "defs", "marker", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan",
}  # fmt: skip


class Elements(HTMLParser):
    """Every element the browser would build from the HTML, with its attributes."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see, after entities, whitespace and control characters."""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", value).lower()
    match = SCHEME.match(cleaned)
    return match[1] if match else None


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_input_is_neutralised(source):
    drawn = source.startswith("```mermaid")
    for tag, attrs in Elements(render(source)).found:
        if drawn and tag in DIAGRAM_TAGS:
            assert not {"href", "xlink:href", "src"} & set(attrs), attrs
        else:
            assert tag not in FORBIDDEN_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            assert name not in {"style", "srcdoc", "formaction", "autofocus"}, name
            assert not name.startswith("data-"), name
            if name in {"href", "src"}:
                assert url_scheme(value or "") in {None, "http", "https", "mailto"}, value


def test_comments_are_dropped():
    assert "<!--" not in render("<!-- secret note -->\n\nText")


def test_safe_links_survive():
    html = render(
        "[web](https://example.com/a?b=1) [mail](mailto:me@example.com) "
        "[page](/series/ai/) [anchor](#section) [rel](other-lesson/)"
    )
    for href in ["https://example.com/a?b=1", "mailto:me@example.com", "/series/ai/", "#section"]:
        assert f'href="{href}"' in html.replace("&amp;", "&")
    assert 'href="other-lesson/"' in html


def test_fenced_code_is_highlighted_with_pygments_classes():
    html = render("```python\ndef f():\n    return 1\n```")
    assert '<div class="highlight">' in html
    assert '<span class="k">def</span>' in html


def test_code_blocks_and_tables_can_take_the_keyboards_focus_to_scroll_but_authors_cant_set_it():
    html = render(
        "```python\nprint(1)\n```\n\n    indented\n\n| a |\n|---|\n| 1 |\n\n"
        '<pre tabindex="-1">kept out</pre>'
    )
    assert html.count('<pre tabindex="0">') == 3
    assert html.count('<table tabindex="0">') == 1
    assert 'tabindex="-1"' not in html


def test_code_blocks_escape_html():
    html = render("```html\n<script>alert(1)</script>\n```")
    assert "<script>" not in html
    assert "&lt;" in html


def test_tables_render_with_align_attributes_not_styles():
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |")
    assert '<table tabindex="0">' in html
    assert 'align="right"' in html
    assert "style=" not in html


def test_footnotes_render():
    html = render("Claim.[^1]\n\n[^1]: Source.")
    assert 'class="footnote"' in html
    assert 'href="#fn:1"' in html


def test_headings_get_anchors_and_h1_becomes_h2():
    html = render("# Top\n\n## Section one")
    assert "<h1" not in html
    assert '<h2 id="top">' in html
    assert '<h2 id="section-one">' in html
    assert 'href="#section-one"' in html
    # Stored once, shown in either interface language: no words of one language in it.
    assert "title=" not in html


def test_a_series_short_texts_have_no_heading_anchors_or_footnote_ids():
    """Several series' calls to action share the home page: nothing in them carries an id."""
    html = draw(render_short_text("### Lanjutkan seri ini\n\nDM aku.[^1]\n\n[^1]: Catatan."))
    assert "<h3>Lanjutkan seri ini</h3>" in html
    assert "id=" not in html


def test_footnote_back_links_carry_no_english_title():
    html = render("Text[^1]\n\n[^1]: A note.")
    assert 'class="footnote-backref" href="#fnref:1">' in html and "title=" not in html


def test_mermaid_fence_becomes_an_svg_drawing():
    html = render("```mermaid\nflowchart LR\n  A --> B\n```")
    assert html.startswith('<figure class="diagram" tabindex="0"><svg ')
    assert ">A</text>" in html
    assert "flowchart" not in html.replace("Flowchart", "")


def test_other_code_is_not_a_diagram():
    assert "<svg" not in render("```python\nprint(1)\n```")


@pytest.mark.parametrize(
    "source",
    [
        '<div class="paywall">Fake paywall</div>',
        '<span class="badge badge--unlocked">Unlocked</span>',
        '<p class="message message--success">You won</p>',
    ],
)
def test_authors_cannot_borrow_the_sites_classes(source):
    assert "class=" not in render(source)


@pytest.mark.parametrize("site_id", ["site-main", "id_pin", "site-paywall-title"])
def test_authors_cannot_take_the_sites_ids(site_id):
    assert "id=" not in render(f'<span id="{site_id}">x</span>')


def test_headings_starting_with_digits_or_in_other_scripts_keep_anchors():
    html = render("## 2024 plans\n\n## 日本語")
    assert 'id="2024-plans"' in html
    assert 'id="日本語"' in html


def test_a_mermaid_fence_shown_inside_a_markdown_example_stays_code():
    html = render("````markdown\n```mermaid\nflowchart LR\n A --> B\n```\n````")
    assert "<svg" not in html
    assert "mermaid" in html


def test_crlf_sources_render_like_lf_sources():
    source = "# Title\n\n- a\n- b\n\n```python\nx = 1\n```\n"
    assert render(source.replace("\n", "\r\n")) == render(source)


def test_allowlisted_inline_html_is_kept():
    html = render("Press <kbd>Ctrl</kbd>, H<sub>2</sub>O, <mark>note</mark>")
    assert "<kbd>Ctrl</kbd>" in html
    assert "<sub>2</sub>" in html


def test_empty_and_odd_input_never_raises():
    for source in ["", "   ", "\x00", "```", "[", "<", "|", "[^1]", "```mermaid", "\ufeff# x"]:
        assert isinstance(render(source), str)


@pytest.mark.parametrize(("words", "minutes"), [(0, 1), (100, 1), (200, 1), (1000, 5), (1500, 8)])
def test_reading_time_counts_words_at_200_a_minute(words, minutes):
    assert reading_minutes(render("word " * words)) == minutes
