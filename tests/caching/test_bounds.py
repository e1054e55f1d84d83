"""What a worker keeps in memory is bounded in bytes, store by store (caching.stores): no run
of different addresses can grow a worker without end (900 `?v=` variants of one 490 KB lesson
once took a worker from 70 to 190 MB)."""

import gc
import tracemalloc

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client

import lessons.diagrams  # noqa: F401 (its store registers itself on import)
from accounts import sessions
from caching import anonymous, kept, stores
from lessons import pages
from lessons.models import Lesson
from tests.factories import make_lesson

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BIG_MARK = "END-OF-THE-BIG-LESSON"


def test_every_store_a_worker_keeps_is_one_of_cachings():
    """The stores this suite fills past their bounds below are all there are."""
    assert set(stores.STORES) == {
        "anonymous pages", "kept parts", "kept pages", "pages", "diagrams", "sessions' data"
    }  # fmt: skip
    assert stores.STORES["sessions' data"] is sessions.decoded
    assert stores.STORES["anonymous pages"] is anonymous.pages
    assert stores.STORES["kept parts"] is kept.fragments
    assert stores.STORES["kept pages"] is kept.whole_pages
    assert stores.STORES["pages"] is pages.memo


@pytest.fixture(autouse=True)
def emptied_after():
    """The stores that outlive a test (the diagrams') are emptied of what this one put."""
    yield
    for store in stores.STORES.values():
        store.clear()


@pytest.fixture
def big_lesson(series):
    """A free lesson of about 490 KB of HTML, as a very long lesson renders to (stored as
    rendered: rendering 490 KB of Markdown would only slow the test)."""
    lesson = make_lesson(series, number=1, slug="big", access=Lesson.Access.FREE)
    html = "".join(f"<p>Paragraph {n}: " + "many words " * 42 + "</p>\n" for n in range(1040))
    Lesson.objects.filter(pk=lesson.pk).update(body_html=html + f"<p>{BIG_MARK}</p>")
    assert 480 * 1024 < len(html) < 500 * 1024
    return lesson


def asked_at_many_addresses(client, url, variants):
    """Ask `url` with `variants` different queries; every store stays within its bound after
    each request. What the worker grew by, measured by tracemalloc."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(variants):
            response = client.get(f"{url}?v={n}")
            assert response.status_code == 200
            assert BIG_MARK in response.text
            for store in stores.STORES.values():
                assert store.size <= store.max_bytes, store.name
        del response
        # The shared tier of the stores is Redis, another process, in production; in tests
        # it is an in-process cache, not the worker's own memory.
        cache.clear()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("who", "store"), [("anonymous", anonymous.pages), ("logged in", kept.whole_pages)]
)
def test_a_big_lesson_asked_at_many_addresses_stays_within_the_bound(
    big_lesson, reader, who, store
):
    """Anonymous readers' pages are kept whole, logged-in readers' pages per tier with their
    own parts left as holes: both by address (the language switch links to it), both within
    their store's bound."""
    client = Client()
    if who == "logged in":
        client.force_login(reader)
    url = big_lesson.get_absolute_url()
    assert BIG_MARK in client.get(url).text  # everything but the pages themselves, warmed
    variants = 3 * store.max_bytes // (490 * 1024)  # pages worth three times the bound
    grown = asked_at_many_addresses(client, url, variants)
    kept_pages = [key for key, entry in store.entries.items() if BIG_MARK in str(entry[2])]
    assert 0 < len(kept_pages) < variants  # the least recently asked went out
    newest = str(store.entries[kept_pages[-1]][2])
    assert f"?v={variants - 1}" in newest  # the page names its address (the language switch)
    # What the worker really holds, not only what the store counts: within the bound.
    limit = store.max_bytes + 2 * MB
    assert grown < limit, f"grew {grown / MB:.1f} MB for a bound of {store.max_bytes / MB} MB"


@pytest.mark.parametrize(
    "name", ["anonymous pages", "kept parts", "kept pages", "pages", "diagrams", "sessions' data"]
)
def test_each_store_filled_past_its_bound_drops_its_oldest_entries(name):
    store = stores.STORES[name]
    values = [f"{n:06d}" + "x" * 100_000 for n in range(3 * store.max_bytes // 100_000)]
    for n, value in enumerate(values):
        assert store.get(("key", n), lambda value=value: value) is value
        assert store.size <= store.max_bytes
    assert store.size == sum(entry[4] for entry in store.entries.values())
    assert store.size > store.max_bytes - 200_000  # full, not emptied
    kept_keys = [key[1] for key in store.entries]
    assert kept_keys == list(range(len(values) - len(kept_keys), len(values)))  # the newest
    # Asked again, a kept value comes from the store, not from its computation.
    assert store.get(("key", kept_keys[0]), lambda: "computed again") == values[kept_keys[0]]


@pytest.mark.parametrize(
    "name", ["anonymous pages", "kept parts", "kept pages", "pages", "diagrams", "sessions' data"]
)
def test_many_small_entries_count_too(name):
    """Entries are counted with what they cost besides their values: a flood of tiny ones
    stays within the bound as well."""
    store = stores.STORES[name]
    for n in range(store.max_bytes // stores.ENTRY_BYTES):
        store.put(n, n)
    assert store.size <= store.max_bytes
    assert len(store.entries) < store.max_bytes // stores.ENTRY_BYTES


@pytest.mark.parametrize(
    "name", ["anonymous pages", "kept parts", "kept pages", "pages", "diagrams", "sessions' data"]
)
def test_a_value_bigger_than_a_store_is_given_but_not_kept(name):
    store = stores.STORES[name]
    store.get("small", lambda: "small value")
    huge = "x" * (store.max_bytes + 1)
    assert store.get("huge", lambda: huge) is huge
    assert "huge" not in store.entries
    assert "small" in store.entries


def test_an_anonymous_page_counts_its_content_and_headers():
    response = HttpResponse("x" * 100_000)
    anonymous.keep("en:http://testserver/a", response)
    ((content, headers),) = [entry[2] for entry in anonymous.pages.entries.values()]
    assert content == response.content
    assert anonymous.pages.size >= 100_000 + sum(len(k) + len(v) for k, v in headers)


def test_a_kept_lesson_counts_everything_it_holds(big_lesson):
    """The measure follows the lesson into its fields and its series: the kept lesson page
    counts its series' texts (the paywall message)."""
    page = pages.lesson_page(big_lesson.series.slug, big_lesson.slug, staff=False)
    ((key, entry),) = [(k, e) for k, e in pages.memo.entries.items() if k[0] == "lesson"]
    assert entry[4] >= len(page.lesson.series.offer.paywall_message)
    assert stores.footprint(page) == entry[4] - stores.footprint(key) - stores.ENTRY_BYTES


def test_a_kept_lesson_page_holds_no_text_of_the_lesson(big_lesson):
    """A worker keeps many lessons' pages, not a few lessons' texts: the text is read when a
    page is made (pages.lesson_body), and kept with that page."""
    page = pages.lesson_page(big_lesson.series.slug, big_lesson.slug, staff=False)
    held = vars(page.lesson)
    assert not {"body", "body_html", "teaser_html", "toc_html"} & held.keys()
    (entry,) = [e for k, e in pages.memo.entries.items() if k[0] == "lesson"]
    assert entry[4] < 480 * 1024 / 10  # the lesson holds about 490 KB of HTML
