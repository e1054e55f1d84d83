"""Pages cost the same queries with a lot of content: one series of 10,000 lessons, or 2,000
series (tests/scale.py), as with a handful (tests/lessons/test_pages.py, test_search.py).
Their times at these sizes are `python -m bench.scale`'s, not these tests'."""

import xml.etree.ElementTree as ET

import pytest
from django.core.cache import caches

from access import services
from lessons.sitemaps import SITEMAP_URLS
from tests import scale
from tests.factories import make_user

pytestmark = pytest.mark.django_db
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(params=list(scale.SIZES))
def big(request, local_cache):
    series = scale.build(request.param)
    caches["default"].clear()
    return series


def test_pages_cost_what_they_cost_with_little_content(client, big, django_assert_num_queries):
    """The home page and its last page, a series' last page of lessons and its last lesson,
    search (anonymous and by a reader with access) and the sitemap's index."""
    lessons = big.lessons.count()
    last = big.lessons.get(number=lessons)
    with django_assert_num_queries(2):  # a page of series with lessons counted, first premium
        assert client.get("/").status_code == 200
    if big.slug != "series-1":
        with django_assert_num_queries(2):  # the last page of the 2,000 series
            assert client.get("/", {"page": 2_000 // 20}).status_code == 200
    with django_assert_num_queries(2):  # the series, a page of its lessons
        page = client.get(big.get_absolute_url(), {"page": -(-lessons // 50)})
    assert f">{last.title}<" in page.text
    # lesson and series, the series' facts (premium lessons), previous and next, its text
    with django_assert_num_queries(4):
        assert client.get(last.get_absolute_url()).status_code == 200

    with django_assert_num_queries(2):  # the matches, then one page of them with highlights
        page = client.get("/search/", {"q": "vectors"})
    assert page.text.count('class="search-result"') == 20

    index = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 (our own output)
    files = [entry.findtext(f"{NS}loc") for entry in index]
    addresses = 2 * (lessons if big.slug == "series-1" else 3 * 2_000)  # in two languages
    assert len([f for f in files if "sitemap-lessons" in f]) == -(-addresses // SITEMAP_URLS)

    reader = make_user()
    services.grant(user=reader, series=big)
    client.force_login(reader)
    client.get("/")
    # session with its user, entitlements, matches, results with highlights
    with django_assert_num_queries(4):
        client.get("/search/", {"q": "vectors"})
