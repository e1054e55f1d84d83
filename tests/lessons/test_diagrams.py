"""Diagrams drawn at save: colours, arrows, errors that name the line, hostile labels, the text
alternative, the limits, and re-rendering stored lessons."""

import re
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from access.offer.models import Offer
from lessons import diagrams
from lessons.diagrams import svg as svg_module
from lessons.diagrams.engine import Engine
from lessons.models import Lesson, Series
from lessons.rendering.pipeline import render
from lessons.rendering.problems import diagram_problems
from tests.factories import make_lesson, make_user

COLOURED = """flowchart LR
    R[ML researchers] -->|new methods| M[ML engineers]
    M -->|models and APIs| A[AI engineers]
    A -->|products| U[End users]
    classDef you fill:#d7f0e9,stroke:#0f6e5c,color:#0b3d33
    class A you
    style U fill:#fde68a,stroke:#b45309
"""
LESSON_ONE = """flowchart LR
    R[ML researchers] -->|new methods| M[ML engineers and model builders]
    M -->|models and APIs| A[AI engineers]
    A -->|products and features| U[End users]
    U -->|feedback and data| A
    classDef you fill:#d7f0e9,stroke:#0f6e5c,color:#0b3d33
    class A you
"""
SEQUENCE = """sequenceDiagram
    participant U as User
    participant A as App
    U->>A: Question
    A-->>U: Answer
"""
SVG_ELEMENTS = {
    "svg", "title", "desc", "g", "defs", "marker", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan",
}  # fmt: skip


def fence(source: str) -> str:
    return f"```mermaid\n{source.strip()}\n```"


class Tree(HTMLParser):
    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def element(html, tag, text):
    """The attributes of the `tag` whose own markup holds `text`."""
    match = re.search(rf"<{tag}\b([^>]*)>{re.escape(text)}</{tag}>", html)
    assert match, f"no <{tag}> with {text!r}"
    return dict(re.findall(r'([\w:-]+)="([^"]*)"', match[1]))


def shape_before(html, text):
    """The attributes of the shape drawn just before the text `text` (its box)."""
    head = html[: html.index(f">{text}</text>")]
    shape = re.findall(r"<(?:rect|polygon|path|circle|ellipse)\b([^>]*)/>", head)[-1]
    return dict(re.findall(r'([\w:-]+)="([^"]*)"', shape))


def test_a_flowchart_keeps_the_authors_classdef_and_style_colours():
    html = render(fence(COLOURED))
    you = shape_before(html, "AI engineers")
    assert (you["fill"], you["stroke"]) == ("#d7f0e9", "#0f6e5c")
    assert "class" not in you  # author colours are not themed
    assert element(html, "text", "AI engineers")["fill"] == "#0b3d33"
    users = shape_before(html, "End users")
    assert (users["fill"], users["stroke"]) == ("#fde68a", "#b45309")
    # no text colour from the author: dark text on the pale fill, in light and dark mode alike
    assert element(html, "text", "End users")["fill"] == "#111111"
    assert "class" not in element(html, "text", "End users")


def test_uncoloured_parts_follow_the_sites_theme_through_classes():
    html = render(fence(COLOURED))
    plain = shape_before(html, "ML researchers")
    assert "dg-fill-node-fill" in plain["class"]
    assert plain["fill"].startswith("#")  # a light fallback for readers without the CSS
    assert "dg-fill-text" in element(html, "text", "ML researchers")["class"]
    assert "var(" not in html


def test_text_the_author_coloured_gets_a_shape_that_does_not_follow_dark_mode():
    html = render(fence("flowchart LR\n A[Dark text] --> B\n style A color:#1e3a8a"))
    box = shape_before(html, "Dark text")
    assert box["fill"] == "#ffffff" and "dg-fill" not in box.get("class", "")


def test_a_sequence_diagram_has_its_arrows():
    html = render(fence(SEQUENCE))
    lines = re.findall(r"<line\b[^>]*marker-end=\"url\(#([\w-]+)\)\"", html)
    assert len(lines) == 2
    for marker_id in lines:
        assert f'<marker id="{marker_id}"' in html
    assert 'stroke-dasharray="6 4"' in html  # the dashed reply
    for label in ("User", "App", "Question", "Answer"):
        assert f">{label}</text>" in html


def test_flowchart_arrows_point_at_markers_of_their_own_diagram():
    html = render(fence("flowchart LR\n A-->B") + "\n\n" + fence("flowchart TD\n C --> D"))
    first, second = html.split("</figure>")[:2]
    assert 'marker-end="url(#diagram-1-arrowhead)"' in first
    assert 'marker-end="url(#diagram-2-arrowhead)"' in second
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_the_svg_has_a_text_alternative():
    html = render(fence(COLOURED))
    svg = dict(Tree(html).elements[1][1])
    assert svg["role"] == "img"
    assert f'<title id="{svg["aria-labelledby"]}">Flowchart</title>' in html
    desc = re.search(rf'<desc id="{svg["aria-describedby"]}">([^<]*)</desc>', html)[1]
    assert "ML researchers to ML engineers: new methods." in desc
    assert "AI engineers to End users: products." in desc


def test_acc_title_and_acc_descr_are_the_text_alternative():
    source = (
        "flowchart LR\n accTitle: Who builds what\n"
        " accDescr {\n  Researchers feed engineers,\n  who feed users.\n }\n A --> B"
    )
    html = render(fence(source))
    assert re.search(r"<title [^>]*>Who builds what</title>", html)
    assert re.search(r"<desc [^>]*>Researchers feed engineers, who feed users.</desc>", html)


def test_text_is_never_drawn_under_12_px():
    html = render(fence(COLOURED))
    svg = dict(Tree(html).elements[1][1])
    view_width = float(svg["viewbox"].split()[2])  # HTMLParser lowercases attribute names
    sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', html)]
    assert min(sizes) < 12  # the renderer's edge labels are 11 px...
    assert float(svg["width"]) / view_width * min(sizes) >= 12  # ...drawn at 12 px or more


def test_a_diagram_needs_no_style_element_or_attribute_under_the_csp():
    html = render(fence(COLOURED) + "\n\n" + fence(SEQUENCE))
    assert "<style" not in html
    assert "style=" not in html


HOSTILE_LABELS = [
    'flowchart LR\n A["<script>alert(1)</script>"] --> B["<img src=x onerror=alert(1)>"]',
    'flowchart LR\n A["x\\" onload=\\"alert(1)"] --> B["<svg onload=alert(1)>"]',
    "flowchart LR\n A[\"<a href='javascript:alert(1)'>click</a>\"] --> B",
    'flowchart LR\n A["<foreignObject><div>x</div></foreignObject>"] --> B',
    "flowchart LR\n A --> B\n style A fill:url(javascript:alert(1)),stroke:red",
    'flowchart LR\n A --> B\n classDef x fill:#f00" onload="alert(1)\n class A x',
    "flowchart LR\n A[&lt;script&gt;alert(1)&lt;/script&gt;] --> B",
    'sequenceDiagram\n A->>B: <script>alert(1)</script>\n Note over A: <iframe src="x">',
    "flowchart LR\n A -->|<style>*{display:none}</style>| B",
]


@pytest.mark.parametrize("source", HOSTILE_LABELS)
def test_hostile_labels_never_become_markup(source):
    html = render(fence(source))
    for tag, attrs in Tree(html).elements:
        assert tag in SVG_ELEMENTS | {"figure", "figcaption", "pre", "code"}, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            assert name not in {"href", "xlink:href", "src", "style"}, name
            assert "javascript" not in value.lower(), value
            assert "url(" not in value or re.fullmatch(r"url\(#diagram-1-[\w-]+\)", value), value


def test_the_sanitiser_rebuilds_hostile_svg_from_its_allowlist():
    hostile = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
        viewBox="0 0 100 50" onload="alert(1)" style="--bg:red">
      <style>@import url(https://evil.example/x.css); text { fill: red }</style>
      <script>alert(1)</script>
      <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
      <a href="javascript:alert(1)"><text x="1" y="1">link</text></a>
      <use xlink:href="https://evil.example/sprite.svg#x"/>
      <image href="https://evil.example/track.png" width="1" height="1"/>
      <g class="node" onclick="alert(1)" style="fill:url(javascript:alert(1))">
        <rect x="1" y="1" width="10" height="10" fill="url(https://evil.example/x)"
              stroke="var(--_line)" marker-end="url(https://evil.example/m)"
              transform="translate(1,1) scale(2)"/>
        <animate attributeName="href" to="javascript:alert(1)"/>
        <set attributeName="onclick" to="alert(1)"/>
        <text x="5" y="5" font-size="13" fill="#123456" id="t">kept &amp; safe</text>
      </g>
    </svg>"""
    drawing = svg_module.sanitise(hostile, prefix="p", title="T", description="D")
    tags = {tag for tag, _ in Tree(drawing.svg).elements}
    assert tags <= SVG_ELEMENTS, tags - SVG_ELEMENTS
    for forbidden in (
        "script", "style", "foreignObject", "onload", "onclick", "javascript", "evil.example",
        "href", "animate", "<set", "<use", "<image", "<a ", "@import",
    ):  # fmt: skip
        assert forbidden.lower() not in drawing.svg.lower(), forbidden
    assert '<text x="5" y="5" font-size="13" fill="#123456" id="p-t">kept &amp; safe</text>' in (
        drawing.svg
    )
    assert 'transform="translate(1,1) scale(2)"' in drawing.svg
    assert 'class="dg-stroke-line"' in drawing.svg


@pytest.mark.parametrize(
    "payload",
    [
        '<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        "<html><body>not svg</body></html>",
        "<svg",
    ],
)
def test_the_sanitiser_refuses_what_is_not_plain_svg(payload):
    with pytest.raises(svg_module.UnsafeSvg):
        svg_module.sanitise(payload, prefix="p", title="T", description="D")


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("flowchart LR\n  A --> B\n  B -->\n", 3, "points to no node"),
        ("flowchart LR\n  A --> B\n\n  C[unclosed --> D\n", 4, 'cannot read "[unclosed --> D"'),
        ("flowchart LR\n  A --> B\n  click A call alert(1)\n", 3, "cannot read"),
        ("sequenceDiagram\n  A->>B: hi\n  loop Every day\n  A->>B: x\n", 3, "never closed"),
        ("sequenceDiagram\n  A->>B: hi\n  autonumber\n", 3, "not a sequence diagram"),
        ('pie title Pets\n  "Dogs" : 386\n', 1, "“pie” diagrams cannot be drawn here"),
        ("%% a comment\n\ngantt\n  title A\n", 3, "“gantt” diagrams"),
        ("flowchart LR\n accDescr {\n never closed\n A --> B\n", 2, "accDescr"),
        ("\n  flowchart\n  A --> B\n", 2, 'Invalid mermaid header: "flowchart"'),
    ],
)
def test_a_diagram_that_cannot_be_drawn_names_its_line(source, line, message):
    with pytest.raises(diagrams.DiagramError) as error:
        diagrams.draw(source, prefix="x")
    assert error.value.line == line
    assert message in error.value.message


def test_problems_name_the_diagram_and_the_line_in_the_text():
    text = (
        "Intro.\n\n" + fence("flowchart LR\n A --> B") + "\n\nMiddle.\n\n"
        "```python\nx = 1\n```\n\n" + fence("flowchart LR\n A --> B\n B -->")
    )
    (problem,) = diagram_problems(text)
    assert (problem.number, problem.line) == (2, 17)
    assert text.split("\n")[problem.line - 1] == " B -->"
    assert str(problem) == "Diagram 2 (line 17) cannot be drawn: an arrow here points to no node."


def test_a_diagram_that_cannot_be_drawn_still_saves_as_its_source_when_not_validated(series):
    lesson = make_lesson(series, body="Before.\n\n" + fence("flowchart LR\n A --> B -->"))
    assert "diagram--error" in lesson.body_html
    assert "This diagram could not be drawn" in lesson.body_html
    assert "A --&gt; B --&gt;" in lesson.body_html


def test_a_broken_diagram_is_refused_in_the_admin_naming_block_and_line(client, series):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    body = "Intro.\n\n" + fence("flowchart LR\n A --> B") + "\n\n" + fence("graph TD\n A --> ")
    response = client.post(
        reverse("admin:lessons_lesson_add"),
        {
            "series": series.pk,
            "number": 9,
            "title": "Broken",
            "slug": "broken",
            "body": body,
            "access": "free",
            "status": "draft",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["body"]
    assert errors == ["Diagram 2 (line 10) cannot be drawn: an arrow here points to no node."]
    assert not Lesson.objects.filter(slug="broken").exists()


NOTHING_TO_SEE = {
    "only a comment": "flowchart LR\n  %% to do",
    "only a style": "flowchart LR\n  style A fill:#fff",
    "only a class": "flowchart LR\n  classDef hot fill:#f00",
    "an empty subgraph": "flowchart LR\n  subgraph Later\n  end",
    "an empty sequence": "sequenceDiagram\n  %% nobody yet",
    "an empty state diagram": "stateDiagram-v2\n",
}


@pytest.mark.parametrize("source", NOTHING_TO_SEE.values(), ids=NOTHING_TO_SEE.keys())
def test_a_diagram_that_draws_nothing_visible_is_refused_at_its_type_line(client, series, source):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    body = "Intro.\n\n" + fence("flowchart LR\n A --> B") + "\n\nThen.\n\n" + fence(source)
    response = client.post(
        reverse("admin:lessons_lesson_add"),
        {"series": series.pk, "number": 9, "title": "Empty", "slug": "empty", "body": body,
         "access": "free", "status": "draft"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["body"]
    assert errors == [
        "Diagram 2 (line 11) cannot be drawn: it draws nothing that can be seen; give it at "
        "least one node with a label, or an arrow between two."
    ]
    assert body.split("\n")[10] == source.split("\n")[0]
    assert not Lesson.objects.filter(slug="empty").exists()


@pytest.mark.parametrize(
    "source",
    ["flowchart LR\n  A", 'flowchart LR\n  A[" "] --> B[" "]', "sequenceDiagram\n  A->>B: x"],
)
def test_a_diagram_with_one_node_or_an_arrow_is_something_to_see(source):
    assert "<svg" in diagrams.draw(source, prefix="x")


def test_model_validation_reports_every_broken_field(series):
    series.description = fence("pie\n a : 1")
    with pytest.raises(ValidationError) as error:
        series.full_clean()
    assert "description" in error.value.message_dict
    assert "“pie” diagrams" in error.value.message_dict["description"][0]


@pytest.mark.django_db
def test_import_names_the_file_and_its_line(tmp_path):
    (tmp_path / "series.yaml").write_text("title: S\nslug: s\n")
    (tmp_path / "01-good.md").write_text("---\ntitle: Good\nnumber: 1\n---\n" + fence(SEQUENCE))
    (tmp_path / "02-bad.md").write_text(
        "---\ntitle: Bad\nnumber: 2\n---\n\nText.\n\n" + fence("flowchart LR\n A --> B\n B -->")
    )
    from django.core.management import CommandError

    with pytest.raises(CommandError) as error:
        call_command("import_series", str(tmp_path), stdout=StringIO())
    assert "02-bad.md: line 11: diagram 1 cannot be drawn: an arrow here points to no node" in (
        str(error.value)
    )
    assert "01-good.md" not in str(error.value)
    assert (tmp_path / "02-bad.md").read_text().split("\n")[10] == " B -->"


def test_the_teaser_never_holds_a_diagram_from_after_the_cut(series):
    lesson = make_lesson(
        series,
        access="premium",
        body="Opening.\n\n" + fence("flowchart LR\n P[Public step] --> Q")
        + "\n\n<!-- more -->\n\n" + fence("flowchart LR\n S[Secret step] --> T"),
    )  # fmt: skip
    assert "Public step" in lesson.teaser_html
    assert "Secret step" not in lesson.teaser_html
    assert lesson.teaser_html.count("<svg") == 1
    assert "Secret step" in lesson.body_html


def test_a_diagram_over_the_size_limit_is_refused():
    source = "flowchart LR\n" + "\n".join(f" N{i} --> N{i + 1}" for i in range(2_000))
    with pytest.raises(diagrams.DiagramError, match="the most is 10,000"):
        diagrams.draw(source, prefix="x")


def test_a_diagram_over_the_time_limit_is_refused_and_the_engine_recovers():
    engine = Engine(time_limit=0.000_001)
    try:
        assert engine.render("flowchart LR\n A --> B")["error"] == "timeout"
        engine.time_limit = 5.0
        assert "svg" in engine.render("flowchart LR\n A --> B")
    finally:
        engine.close()


def test_the_same_diagram_is_drawn_once(monkeypatch):
    calls = []
    real = diagrams.engine.render
    monkeypatch.setattr(
        diagrams.engine, "render", lambda source, **limits: calls.append(1) or real(source)
    )
    diagrams.forget()
    source = fence("flowchart LR\n Once --> Only")
    render(source)
    render("Another text.\n\n" + source)
    assert len(calls) == 1
    diagrams.forget()  # as another worker process, which shares only the cache
    render(source)
    assert len(calls) == 1


@pytest.mark.django_db
def test_render_lessons_redraws_stored_lessons_and_reports_what_changed(series):
    first = make_lesson(series, number=1, body="Plain *text*.")
    second = make_lesson(series, number=2, body=fence("flowchart LR\n A --> B"))
    third = make_lesson(series, number=3, body="More text.")
    Lesson.objects.filter(pk=second.pk).update(body_html='<pre class="mermaid">old</pre>')
    Lesson.objects.filter(pk=third.pk).update(reading_minutes=9)
    before = Lesson.objects.get(pk=second.pk).updated_at

    Series.objects.filter(pk=series.pk).update(description_html="<p>stale</p>")
    Offer.objects.filter(series=series).update(cta_html="<p>stale</p>")

    out = StringIO()
    call_command("render_lessons", "--dry-run", stdout=out)
    assert f"1 of 1 series would change: {series.title}" in out.getvalue()
    assert f"1 of 1 offers would change: {series.title}" in out.getvalue()
    assert f"2 of 3 lessons would change: {series.title} 2. " in out.getvalue()
    assert Lesson.objects.get(pk=second.pk).body_html == '<pre class="mermaid">old</pre>'

    out = StringIO()
    call_command("render_lessons", stdout=out)
    report = out.getvalue()
    assert "1 of 1 series changed" in report
    assert Series.objects.get(pk=series.pk).description_html != "<p>stale</p>"
    assert "1 of 1 offers changed" in report
    assert Offer.objects.get(series=series).cta_html != "<p>stale</p>"
    assert "2 of 3 lessons changed: " in report
    assert str(second) in report and str(third) in report and str(first) not in report
    redrawn = Lesson.objects.get(pk=second.pk)
    assert "<svg" in redrawn.body_html and redrawn.updated_at > before
    assert Lesson.objects.get(pk=third.pk).reading_minutes == 1

    out = StringIO()
    call_command("render_lessons", stdout=out)
    assert "0 of 3 lessons changed" in out.getvalue()


@pytest.mark.django_db
def test_render_lessons_warns_about_diagrams_that_cannot_be_drawn(series):
    make_lesson(series, number=4, title="Broken", body=fence("flowchart LR\n A --> B -->"))
    err = StringIO()
    call_command("render_lessons", stdout=StringIO(), stderr=err)
    assert f"{series.title} 4. Broken: Diagram 1 (line 3) cannot be drawn" in err.getvalue()


def widths(html):
    return [float(w) for w in re.findall(r'<svg [^>]*?width="([\d.]+)"', html)]


def test_a_left_to_right_flowchart_too_wide_for_a_phone_also_comes_top_to_bottom():
    html = render(fence(LESSON_ONE))
    wide, narrow = widths(html)
    assert narrow < 0.8 * wide
    below = int(re.search(r"diagram--narrow-below-(\d+)", html)[1])
    assert below * 16 >= wide + 48 > (below - 8) * 16  # the first breakpoint it fits from
    assert 'class="diagram__svg diagram__svg--wide"' in html
    assert 'class="diagram__svg diagram__svg--narrow"' in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert html.count('fill="#d7f0e9"') == 2  # the author's colours in both


def test_a_flowchart_wider_than_any_page_is_drawn_top_to_bottom_only_and_always_shown():
    html = render(fence(COLOURED))
    (width,) = widths(html)
    assert width < 400
    # Its only drawing carries no class the stylesheet hides at any width.
    assert re.search(r'<figure class="diagram" tabindex="0"><svg [^>]*class="diagram__svg"', html)
    assert "diagram__svg--narrow" not in html and "diagram--narrow-below" not in html


def test_the_stylesheet_hides_a_narrow_drawing_only_beside_a_wide_one():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "site.css").read_text()
    hidden = [rule for rule in css.split("}") if "diagram__svg--narrow { display: none" in rule]
    assert hidden and all("diagram--narrow-below-" in rule for rule in hidden)


@pytest.mark.parametrize(
    "source", ["flowchart LR\n A --> B", "flowchart TD\n" + COLOURED.split("\n", 1)[1], SEQUENCE]
)
def test_other_diagrams_are_drawn_once(source):
    assert len(widths(render(fence(source)))) == 1
