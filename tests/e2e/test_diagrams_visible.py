"""Every diagram can be seen, at every width: each lesson of the demo series and of a series of
very wide flowcharts, opened on two phones and a desktop, shows each `figure.diagram` with a
box of some size holding a drawing that is displayed; and a live preview refused while another
render of its author's runs asks again by itself."""

import pytest

from tests.e2e.test_browser import browser, demo, log_in_as_owner, tab  # noqa: F401 (fixtures)
from tests.factories import make_lesson, make_series

pytestmark = pytest.mark.django_db(transaction=True)
WIDTHS = (360, 390, 1280)

WIDE = {
    # Wider than any page (over 1,024 px) left to right: drawn top to bottom only.
    "The whole pipeline": """flowchart LR
    A[Collect the documents] --> B[Split them into chunks]
    B --> C[Embed every chunk]
    C --> D[Store the vectors]
    D --> E[Embed the question]
    E --> F[Search the nearest chunks]
    F --> G[Build the prompt]
    G --> H[Call the model]
    H --> I[Check the answer]
    I --> J[Answer with sources]""",
    # A new author's flowchart with two decisions, which vanished everywhere.
    "Two decisions": """flowchart LR
    R[A reader opens a lesson] --> K{Is a copy of the page kept for anonymous readers?}
    K -->|yes| S[Serve the kept page at once]
    K -->|no| L{Is the reader logged in with access to the premium lessons?}
    L -->|yes| F[Render the full lesson for this reader]
    L -->|no| T[Render the teaser and the paywall box, then keep it]""",
    # Wide on a phone, fitting a desktop: two drawings, one shown at each width.
    "Four steps": """flowchart LR
    Q[Question] --> R[Retrieve passages] --> P[Write the prompt] --> A[Answer]""",
    "A conversation": """sequenceDiagram
    participant R as Reader
    participant S as Site
    participant M as Mail server
    R->>S: Sign up with an e-mail address
    S->>M: Send a six-digit code
    M-->>R: The code
    R->>S: Type the code""",
}

# Per figure: its size, and whether a drawing in it is displayed with a size of its own.
FIGURES = """() => [...document.querySelectorAll("figure.diagram")].map((figure, index) => {
  const box = figure.getBoundingClientRect();
  const shown = [...figure.querySelectorAll("svg")].filter((svg) => {
    const size = svg.getBoundingClientRect();
    return getComputedStyle(svg).display !== "none" && size.width > 0 && size.height > 0;
  });
  return {
    index: index + 1,
    width: box.width,
    height: box.height,
    drawings: figure.querySelectorAll("svg").length,
    shown: shown.length,
  };
})"""


@pytest.fixture
def wide_series():
    series = make_series(title="Wide diagrams", slug="wide-diagrams")
    for number, (title, source) in enumerate(WIDE.items(), start=1):
        make_lesson(
            series,
            number=number,
            title=title,
            slug=f"wide-{number}",
            body=f"Before the diagram.\n\n```mermaid\n{source}\n```\n\nAfter it.",
        )
    return series


def test_every_diagram_of_every_lesson_is_shown_at_every_width(demo, tab, wide_series):  # noqa: F811
    from lessons.models import Lesson

    page = tab.page
    log_in_as_owner(page, demo)  # staff read every premium lesson in full
    urls = [
        demo + lesson.get_absolute_url()
        for lesson in Lesson.objects.select_related("series").order_by("series", "number")
    ]
    assert len(urls) == 7 + len(WIDE)
    hidden, seen = [], 0
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for url in urls:
            assert page.goto(url).status == 200
            for figure in page.evaluate(FIGURES):
                seen += 1
                if figure["width"] < 16 or figure["height"] < 16 or figure["shown"] != 1:
                    hidden.append(f"{url} at {width} px, diagram {figure['index']}: {figure}")
    assert hidden == []
    assert seen >= len(WIDTHS) * (len(WIDE) + 2)  # lessons 1 and 4 of the demo have one each
    assert tab.errors == []


def test_a_live_preview_refused_while_another_render_runs_asks_again_by_itself(demo, tab):  # noqa: F811
    """While a save of the author's is still rendering, the preview says so (429) and, once it
    is done, shows the text without the author typing again."""
    from lessons.models import Lesson
    from lessons.rendering import budget

    page = tab.page
    owner = log_in_as_owner(page, demo)
    lesson = Lesson.objects.get(number=2)
    frame = page.frame_locator("iframe.writing__frame")
    with budget.bounded(user=owner):  # the live server shares this process's cache
        page.goto(f"{demo}/admin/lessons/lesson/{lesson.pk}/change/")
        frame.locator("text=Another preview or save of yours is still being rendered").wait_for()
    frame.locator(".teaser-cut").wait_for(timeout=15_000)
    assert all("429" in error for error in tab.errors), tab.errors
