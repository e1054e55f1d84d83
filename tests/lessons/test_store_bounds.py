"""What a worker keeps in memory (whole anonymous pages, the lessons and lists pages.py keeps,
rendered parts and logged-in pages) is bounded in bytes, store by store: no run of different
addresses can grow a worker without end (900 `?v=` variants of one 490 KB lesson once took a
worker from 70 to 190 MB)."""

import gc
import tracemalloc

import pytest
from django.http import HttpResponse
from django.test import Client

from config import pagecache
from lessons import pages
from lessons.models import Lesson
from tests.factories import make_lesson

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BIG_MARK = "END-OF-THE-BIG-LESSON"


@pytest.fixture
def big_lesson(series):
    """A free lesson of about 490 KB of HTML, as a very long lesson renders to (stored as
    rendered: rendering 490 KB of Markdown would only slow the test)."""
    lesson = make_lesson(series, number=1, slug="big", access=Lesson.Access.FREE)
    html = "".join(f"<p>Paragraph {n}: " + "many words " * 42 + "</p>\n" for n in range(1040))
    Lesson.objects.filter(pk=lesson.pk).update(body_html=html + f"<p>{BIG_MARK}</p>")
    assert 480 * 1024 < len(html) < 500 * 1024
    return lesson


STORES = {
    # who reads, and the store their whole page is kept in
    "anonymous": (lambda: pagecache.pages, lambda: pagecache.MAX_BYTES),
    "logged in": (lambda: pages.fragments, lambda: pages.FRAGMENTS_MAX_BYTES),
}


@pytest.mark.parametrize("who", STORES)
def test_a_big_lesson_asked_at_many_addresses_stays_within_the_bound(big_lesson, reader, who):
    store, bound = (get() for get in STORES[who])
    client = Client()
    if who == "logged in":
        client.force_login(reader)
    url = big_lesson.get_absolute_url()
    assert BIG_MARK in client.get(url).text  # everything but the pages themselves, warmed
    variants = 3 * bound // (490 * 1024)  # pages worth three times the bound
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(variants):
            response = client.get(f"{url}?v={n}")
            assert response.status_code == 200
            assert BIG_MARK in response.text
            assert store.size <= bound
            assert pages.memo.size <= pages.MEMO_MAX_BYTES
            assert pages.fragments.size <= pages.FRAGMENTS_MAX_BYTES
        del response
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(store.entries) < variants  # the least recently asked went out
    assert f"{url}?v={variants - 1}" in str(list(store.entries)[-1])
    # What the worker really holds, not only what the store counts: within the bound.
    assert grown < bound + 2 * MB, f"grew {grown / MB:.1f} MB for a bound of {bound / MB} MB"


@pytest.mark.parametrize("name", ["memo", "fragments"])
def test_each_pages_store_filled_past_its_bound_drops_its_oldest_entries(name):
    store = getattr(pages, name)
    values = [f"{n:06d}" + "x" * 100_000 for n in range(3 * store.max_bytes // 100_000)]
    for n, value in enumerate(values):
        assert store.get(("key", n), lambda value=value: value) is value
        assert store.size <= store.max_bytes
    assert store.size == sum(entry[4] for entry in store.entries.values())
    assert store.size > store.max_bytes - 200_000  # full, not emptied
    kept = [key[1] for key in store.entries]
    assert kept == list(range(len(values) - len(kept), len(values)))  # the newest ones
    # Asked again, a kept value comes from the store, not from its computation.
    assert store.get(("key", kept[0]), lambda: "computed again") == values[kept[0]]


@pytest.mark.parametrize("name", ["memo", "fragments"])
def test_a_value_bigger_than_a_pages_store_is_given_but_not_kept(name):
    store = getattr(pages, name)
    store.get("small", lambda: "small value")
    huge = "x" * (store.max_bytes + 1)
    assert store.get("huge", lambda: huge) is huge
    assert "huge" not in store.entries
    assert "small" in store.entries


def test_the_anonymous_page_store_filled_past_its_bound_drops_its_oldest_pages():
    store = pagecache.pages
    count = 3 * pagecache.MAX_BYTES // 100_000
    for n in range(count):
        store.put(f"en:http://testserver/{n}", 1, HttpResponse("x" * 100_000))
        assert store.size <= pagecache.MAX_BYTES
    assert store.size == sum(entry[4] for entry in store.entries.values())
    assert store.size > pagecache.MAX_BYTES - 200_000
    assert store.get(f"en:http://testserver/{count - 1}", 1) is not None
    assert store.get("en:http://testserver/0", 1) is None
    store.put("huge", 1, HttpResponse("x" * (pagecache.MAX_BYTES + 1)))
    assert store.get("huge", 1) is None
    assert store.get(f"en:http://testserver/{count - 1}", 1) is not None


def test_a_kept_lesson_counts_everything_it_holds(big_lesson):
    """The memo's measure follows the lesson into its fields and its series: the kept
    lesson page counts at least its HTML."""
    page = pages.lesson_page(big_lesson.series.slug, big_lesson.slug, staff=False)
    (entry,) = pages.memo.entries.values()
    assert entry[4] >= len(page.lesson.body_html) + len(page.lesson.series.offer.paywall_message)
    assert pages.footprint(page) == entry[4] - pages.footprint(next(iter(pages.memo.entries)))
