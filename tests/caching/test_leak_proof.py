"""A kept part cannot show what its key does not name: it is rendered from the values its
{% shared %} tag passes by name and nothing else, and in tests a part that reads any other
variable fails loudly (KEPT_TEMPLATES_STRICT). The maintainer who adds `{{ user.email }}` to a
shared include gets a failing suite, not one reader's address on another reader's page."""

import collections
import datetime
import decimal
import enum
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import Context, Engine, TemplateSyntaxError
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe

from caching import anonymous, kept, keys, stores
from lessons import pages
from lessons.models import Lesson, Series
from lessons.models.content import PremiumRange
from tests.factories import make_user

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
# Every include a lesson page keeps ({% shared %} in base.html and lesson.html).
KEPT_INCLUDES = [
    "includes/_header.html",
    "includes/_footer.html",
    "includes/_share_meta.html",
    "includes/_lesson_end.html",
    "includes/_pager.html",
]
READER_DATA = [
    "{{ user.email }}",
    "{% if request.user.is_staff %}staff{% endif %}",
    "{{ messages }}",
]


@pytest.fixture
def maintainer_edits(settings, tmp_path):
    """Copy a template into a folder searched before the site's, with a line added: what a
    maintainer's one-line change to it would be."""

    def edit(name: str, added: str) -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((TEMPLATES / name).read_text(encoding="utf-8") + added, encoding="utf-8")
        engine = {**settings.TEMPLATES[0]}
        engine["DIRS"] = [tmp_path, *engine["DIRS"]]
        settings.TEMPLATES = [engine, *settings.TEMPLATES[1:]]

    return edit


@pytest.fixture
def named_store():
    """A store whose values keys name by where they are kept, 16 KB, left out of STORES (the
    site's own stores, which other tests fill)."""
    store = stores.Store("named for a test", max_bytes=16 * 1024, named=True)
    del stores.STORES[store.name]
    yield store
    store.clear()


def logged_in(email="reader.one@example.com") -> Client:
    client = Client()
    client.force_login(make_user(email=email))
    return client


@pytest.fixture
def lesson_with_neighbours(series, free_lesson, premium_lesson):
    return free_lesson


@pytest.mark.parametrize("include", KEPT_INCLUDES)
@pytest.mark.parametrize("added", READER_DATA)
def test_reader_data_added_to_a_kept_include_fails_the_suite(
    maintainer_edits, lesson_with_neighbours, include, added
):
    maintainer_edits(include, added)
    with pytest.raises(kept.UnnamedVariable, match="does not pass"):
        logged_in().get(lesson_with_neighbours.get_absolute_url())


def test_the_same_page_renders_without_the_edit(lesson_with_neighbours):
    """The control: the lesson page, as it is, reads nothing its kept parts were not given."""
    html = logged_in().get(lesson_with_neighbours.get_absolute_url()).text
    assert "Log out" in html and "Mark as done" in html and 'rel="next"' in html


def test_without_strict_mode_the_added_variable_shows_nothing_and_leaks_nothing(
    settings, maintainer_edits, lesson_with_neighbours
):
    """In production (strict mode off) the mistake cannot leak either: the kept part never
    had the reader to show."""
    settings.KEPT_TEMPLATES_STRICT = False
    maintainer_edits("includes/_header.html", "<p id=who>{{ user.email }}</p>")
    url = lesson_with_neighbours.get_absolute_url()
    first = logged_in("first.reader@example.com").get(url).text
    second = logged_in("second.reader@example.com").get(url).text
    assert "<p id=who></p>" in first and "<p id=who></p>" in second
    assert "first.reader@example.com" not in second
    assert "@example.com" not in first


def render(source: str, context: dict, request=None) -> str:
    engine = Engine(libraries={"shared": "caching.templatetags.shared"})
    template = engine.from_string("{% load shared %}" + source)
    if request is not None:
        context = {**context, "request": request}
    return template.render(Context(context))


class TestTheSharedTag:
    def test_it_sees_the_named_values_and_the_constants_only(self, settings):
        settings.SITE_NAME = "The Site"
        source = (
            '{% shared "part" title=page.title %}{{ title }}|{{ SITE_NAME }}|'
            "{{ LANGUAGE_CODE }}{% endshared %}"
        )
        with translation.override("id"):
            assert render(source, {"page": {"title": "One"}}) == "One|The Site|id"

    def test_a_variable_of_the_page_not_passed_is_refused(self):
        with pytest.raises(kept.UnnamedVariable, match='reads "secret"'):
            render('{% shared "part" %}{{ secret }}{% endshared %}', {"secret": "hidden"})

    def test_an_if_on_a_variable_not_passed_is_refused_too(self):
        with pytest.raises(kept.UnnamedVariable):
            render('{% shared "part" %}{% if user.is_staff %}x{% endif %}{% endshared %}', {})

    def test_loop_and_with_variables_are_its_own(self):
        source = (
            '{% shared "part" items=items %}{% for item in items %}{% with n=item %}{{ n }}'
            "{% endwith %}{% endfor %}{% endshared %}"
        )
        assert render(source, {"items": [1, 2]}) == "12"

    def test_each_set_of_values_is_kept_apart(self):
        source = '{% shared "part" who=who %}{{ who }}{% endshared %}'
        assert render(source, {"who": "one"}) == "one"
        assert render(source, {"who": "two"}) == "two"
        assert render(source, {"who": "one"}) == "one"
        assert len(kept.fragments.entries) == 2

    def test_a_value_named_by_the_page_but_not_passed_does_not_split_the_part(self):
        source = '{% shared "part" %}same{% endshared %}'
        render(source, {"who": "one"})
        render(source, {"who": "two"})
        assert len(kept.fragments.entries) == 1

    def test_the_scheme_and_host_name_the_key(self, settings):
        settings.ALLOWED_HOSTS = ["testserver", "other.example"]
        source = '{% shared "part" %}same{% endshared %}'
        factory = RequestFactory()
        render(source, {}, factory.get("/", secure=True))
        render(source, {}, factory.get("/"))
        render(source, {}, factory.get("/", HTTP_HOST="other.example"))
        assert len(kept.fragments.entries) == 3

    def test_the_csrf_token_is_each_requests_own_and_never_kept(self):
        source = '{% shared "form" %}<input value="{{ csrf_token }}">{% endshared %}'
        assert render(source, {"csrf_token": "ONE"}) == '<input value="ONE">'
        assert render(source, {"csrf_token": "TWO"}) == '<input value="TWO">'
        (entry,) = kept.fragments.entries.values()
        assert kept.CSRF_MARKER in entry[2] and "ONE" not in entry[2]

    @pytest.mark.parametrize(
        "tag",
        [
            "{% shared %}",
            "{% shared name %}",
            '{% shared "part" lesson.pk %}',
            '{% shared "part" who=who extra %}',
        ],
    )
    def test_it_takes_a_quoted_name_and_named_values_only(self, tag):
        with pytest.raises(TemplateSyntaxError):
            render(tag + "x{% endshared %}", {"who": 1})


class TestKeys:
    def test_a_value_it_cannot_name_is_refused(self):
        with pytest.raises(TypeError, match="cannot name a kept part"):
            keys.key_of(HttpRequest())
        with pytest.raises(TypeError):
            keys.key_of(object())

    def test_plain_values_name_themselves_and_long_texts_by_their_digest(self):
        when = datetime.date(2026, 1, 2)
        assert keys.key_of([1, "a", None, when]) == ("list", 1, "a", None, when)
        long_one, long_two = "x" * 1000, "x" * 999 + "y"
        assert keys.key_of(long_one) != keys.key_of(long_two)
        assert len(repr(keys.key_of(long_one))) < 200

    def test_a_model_instance_is_named_by_what_was_added_to_it_as_well(self, free_lesson):
        lesson = Lesson.objects.get(pk=free_lesson.pk)
        plain = keys.key_of(lesson)
        lesson.opened_by_this_reader = True  # a view that marked a shared instance
        assert keys.key_of(lesson) != plain

    def test_an_instance_named_once_is_named_anew_when_an_attribute_changes(self, free_lesson):
        """What names an instance is remembered on it between requests (a kept lesson is named
        on every page it is shown on); any attribute assigned, added or removed since
        names it afresh."""
        lesson = Lesson.objects.get(pk=free_lesson.pk)
        lesson.series_has_premium = False
        unmarked = keys.key_of(lesson)
        assert keys.key_of(lesson) == unmarked  # remembered, and the same
        lesson.series_has_premium = True
        assert keys.key_of(lesson) != unmarked
        lesson.series_has_premium = False
        assert keys.key_of(lesson) == unmarked
        del lesson.series_has_premium
        assert keys.key_of(lesson) != unmarked

    def test_an_instance_holding_a_value_that_changes_in_place_is_named_anew_each_time(
        self, free_lesson
    ):
        lesson = Lesson.objects.get(pk=free_lesson.pk)
        lesson.readers = ["ani"]
        before = keys.key_of(lesson)
        lesson.readers.append("budi")  # the same list, changed: nothing was assigned
        assert keys.key_of(lesson) != before

    def test_a_related_object_changed_renames_the_instance_it_was_fetched_with(self, free_lesson):
        lesson = Lesson.objects.select_related("series").get(pk=free_lesson.pk)
        before = keys.key_of(lesson)
        lesson.series.premium_count = 3
        assert keys.key_of(lesson) != before

    def test_what_names_an_instance_does_not_depend_on_what_was_named_beside_it(self, series):
        """A value named earlier in the same key is named "again" there: what an instance
        remembers of itself must name its own values, whatever was beside it then."""
        one, other = Series(pk=series.pk), Series(pk=series.pk)
        one.premium_range = PremiumRange(2, 7, 6, None)
        other.premium_range = PremiumRange(3, 7, 5, None)
        keys.key_of({"range": one.premium_range, "series": one})
        keys.key_of({"range": other.premium_range, "series": other})
        assert keys.key_of({"series": one}) != keys.key_of({"series": other})

    def test_values_that_print_alike_name_parts_apart(self):
        when = datetime.date(2026, 1, 2)
        values = [1, True, 1.0, "1", None, "None", when, str(when), ("a", "b"), "('a', 'b')"]
        values += [decimal.Decimal("1"), datetime.timedelta(days=1), uuid.UUID(int=1)]
        named = {keys.part_key("part", {"v": value}, ("https", "example.com")) for value in values}
        assert len(named) == len(values)

    @pytest.mark.parametrize(
        ("one", "other"),
        [
            ({1, 2}, ["set", 1, 2]),
            ({"x": 1}, ["dict", ["x", 1]]),
            ((1,), [1]),
            (["again", 0], ("again", 0)),
            (mark_safe("<b>"), "<b>"),
        ],
    )
    def test_values_that_are_written_alike_name_parts_apart(self, one, other):
        """A list, a tuple, a set and a dict shown as they are differ on the page, and a
        text marked safe shows unescaped: each is named as what it is."""
        where = ("https", "example.com")
        assert keys.part_key("p", {"v": one}, where) != keys.part_key("p", {"v": other}, where)

    def test_an_instance_is_named_alike_whatever_was_named_beside_it(self, series):
        """An instance named once with a list in an attribute and once with a tuple: what is
        named after it must still say which instance it means (the review's example)."""
        shared = [7]
        one, other = Series(pk=series.pk), Series(pk=series.pk)
        one.span, other.span = (1, 2), [1, 2]
        where = ("https", "example.com")
        first = keys.part_key("p", {"a": one, "b": shared, "c": shared}, where)
        second = keys.part_key("p", {"a": other, "b": [7], "c": other.span}, where)
        assert first != second

    def test_text_choices_are_named_by_their_type_not_their_text(self):
        """Two choices with the same stored text show different labels."""

        class Shown(models.TextChoices):
            X = "x", "Shown X"

        class Other(models.TextChoices):
            X = "x", "Another label"

        assert keys.key_of(Shown.X) != keys.key_of(Other.X) != keys.key_of("x")

    def test_a_lazy_value_is_named_by_what_it_wraps_not_by_the_wrapper(self):
        class One(enum.Enum):
            R = 1

        class Two(enum.Enum):
            S = 1

        assert keys.key_of(SimpleLazyObject(lambda: One.R)) == keys.key_of(One.R)
        assert keys.key_of(SimpleLazyObject(lambda: One.R)) != keys.key_of(Two.S)
        assert keys.key_of(SimpleLazyObject(lambda: 5)) == keys.key_of(5)

    def test_containers_of_types_of_their_own_are_named_apart(self):
        point = collections.namedtuple("Point", "x y")
        pair = collections.namedtuple("Pair", "x y")
        named = {
            keys.part_key("p", {"v": value}, ("https", "example.com"))
            for value in (
                {1, 2},
                frozenset({1, 2}),
                (1, 2),
                point(1, 2),
                pair(1, 2),
                {"a": 1},
                collections.OrderedDict(a=1),
            )
        }
        assert len(named) == 7

    def test_an_enum_holding_an_instance_counts_it_where_it_is_named(self, series):
        """The review's example: an instance remembered with an enum that holds another
        instance must still let "again" after it say which instance it means."""
        m, n = Series(pk=5), Series(pk=6)

        class Holder(enum.Enum):
            K = m

        one, other = Series(pk=1), Series(pk=1)
        one.e = other.e = Holder.K
        one.s, other.s = set(), frozenset()
        where = ("https", "example.com")
        first = keys.part_key("p", {"a": one, "b": n, "c": m}, where)
        second = keys.part_key("p", {"a": other, "b": n, "c": n}, where)
        assert first != second

    def test_a_dict_with_keys_that_are_not_text_is_refused(self):
        with pytest.raises(TypeError, match="text keys"):
            keys.key_of({1: "a", "1": "b"})

    def test_a_list_that_holds_itself_is_refused(self):
        looped: list = [1]
        looped.append(looped)
        with pytest.raises(TypeError, match="holds itself"):
            keys.key_of(looped)

    def test_the_objects_prefetched_for_an_instance_name_it(self, series, free_lesson):
        from django.db.models import Prefetch

        def fetched(*numbers):
            lessons = Lesson.objects.filter(number__in=numbers)
            return Series.objects.prefetch_related(Prefetch("lessons", queryset=lessons)).get()

        assert keys.key_of(fetched(1)) != keys.key_of(fetched(2))

    def test_an_object_met_again_in_a_key_is_named_by_which_one_it_is(self, series):
        """A page names a list of lessons and, beside it, one of them (the first one locked):
        which one it is must be in the key, or two pages that differ only by it would share
        one kept page."""
        one = Lesson(pk=1, series=series, number=1, slug="one", title="One")
        two = Lesson(pk=2, series=series, number=2, slug="two", title="Two")
        first = keys.key_of({"listing": [one, two], "first_locked": one})
        second = keys.key_of({"listing": [one, two], "first_locked": two})
        assert first != second
        assert first == keys.key_of({"first_locked": one, "listing": [one, two]})

    def test_a_derived_value_names_what_its_key_named_already_as_which_one_it_is(self, series):
        lesson = Lesson(pk=1, series=series, number=1, slug="one", title="One")
        other = Lesson(pk=2, series=series, number=2, slug="two", title="Two")

        def meta(lesson):
            return lesson.title

        on_its_own = keys.key_of(kept.derived(meta, lesson))
        beside = keys.key_of({"lesson": lesson, "share": kept.derived(meta, lesson)})
        assert len(repr(beside)) < len(repr(keys.key_of(lesson))) + len(repr(on_its_own))
        assert beside != keys.key_of({"lesson": lesson, "share": kept.derived(meta, other)})
        assert keys.key_of(kept.derived(meta, other)) != on_its_own

    def test_a_lazy_attribute_is_not_worked_out_to_decide_whether_to_remember(self, series):
        worked_out = []
        instance = Series(pk=series.pk)
        instance.later = kept.derived(lambda: worked_out.append(1) or "x")
        keys.key_of(instance)
        assert worked_out == []

    def test_a_lazy_object_is_named_by_what_it_wraps(self, free_lesson):
        lesson = Lesson.objects.get(pk=free_lesson.pk)
        assert keys.key_of(SimpleLazyObject(lambda: lesson)) == keys.key_of(lesson)

    def test_the_lessons_pages_keeps_for_staff_and_readers_are_named_apart(
        self, series, free_lesson
    ):
        """Staff see drafts: what lessons.pages worked out for them (the series' ranges, the
        neighbours) must not name the same kept part as a reader's."""
        Lesson.objects.create(
            series=series, number=5, slug="draft", title="Draft", status=Lesson.Status.DRAFT
        )
        staff = pages.lesson_page(series.slug, free_lesson.slug, staff=True)
        reader = pages.lesson_page(series.slug, free_lesson.slug, staff=False)
        assert keys.key_of(staff) != keys.key_of(reader)

    def test_what_the_pages_store_holds_is_named_by_where_it_is_kept(self, series, free_lesson):
        """A lesson's page the store holds, and each part of it, is named by the store's key
        for it (within one generation the store gives one value for one key), not walked
        through field by field."""
        page = pages.lesson_page(series.slug, free_lesson.slug, staff=False)
        name = keys.key_of(page)
        assert name[:3] == ("kept", "pages", ("lesson", series.slug, free_lesson.slug, False))
        assert keys.key_of(page.lesson) == (*name, "lesson")
        staff = pages.lesson_page(series.slug, free_lesson.slug, staff=True)
        assert keys.key_of(staff.lesson) == (*keys.key_of(staff), "lesson") != name

    def test_a_page_of_a_series_list_and_its_lessons_are_named_by_their_place(
        self, series, free_lesson, premium_lesson
    ):
        found, listing = pages.series_page(series.slug, staff=False)
        *place, first = keys.key_of(found)  # the store holds (the series, the listing)
        assert place[:3] == ["kept", "pages", ("series", series.slug, False, 1)] and first == 0
        assert keys.key_of(listing) == (*place, 1)
        assert [keys.key_of(lesson) for lesson in listing.items] == [
            (*place, 1, "items", 0),
            (*place, 1, "items", 1),
        ]
        _, other = pages.series_page(series.slug, staff=True)
        assert keys.key_of(other) != keys.key_of(listing)

    def test_once_the_store_lets_a_value_go_it_is_named_by_what_it_is(self, series, free_lesson):
        page = pages.lesson_page(series.slug, free_lesson.slug, staff=False)
        name = keys.key_of(page.lesson)
        pages.memo.clear()
        assert keys.key_of(page.lesson)[0] == "model"
        again = pages.lesson_page(series.slug, free_lesson.slug, staff=False)
        assert again.lesson is not page.lesson
        assert keys.key_of(again.lesson) == name  # made again, named alike, in any worker

    def test_a_view_that_changes_what_the_store_holds_fails_loudly(
        self, series, free_lesson, premium_lesson
    ):
        """Named by its place, a lesson the store holds is not looked at: a view that added a
        reader's value to it would change it for every request while keys still named it by
        its place. In tests and with DEBUG (KEPT_TEMPLATES_STRICT) that fails loudly."""
        found, listing = pages.series_page(series.slug, staff=False)
        keys.key_of(listing)  # as kept
        found.premium_range  # noqa: B018 (a cached property, worked out from what it holds)
        keys.key_of(found)
        listing.items[0].done = True
        with pytest.raises(keys.ChangedWhileHeld, match="Lesson the 'pages' store holds"):
            keys.key_of(listing)
        del listing.items[0].done
        listing.items.append(listing.items[0])
        with pytest.raises(keys.ChangedWhileHeld, match="list the 'pages' store holds"):
            keys.key_of(listing)
        listing.items.pop()
        assert keys.key_of(listing)[0] == "kept"

    def test_a_value_kept_until_a_moment_is_named_by_it(self, named_store):
        """When a scheduled lesson comes out, what the store makes again for the same key
        (the series' new range, due at the next one) is named apart from what it made
        before."""
        soon = timezone.now() + datetime.timedelta(hours=1)
        before = named_store.get("facts", lambda: ["lessons 2–7"], due=lambda _: soon)
        name_before = keys.key_of(before)
        assert name_before == ("kept", named_store.name, "facts", soon)
        named_store.clear()  # the moment passed
        later = soon + datetime.timedelta(days=1)
        after = named_store.get("facts", lambda: ["lessons 2–8"], due=lambda _: later)
        assert keys.key_of(after) == ("kept", named_store.name, "facts", later) != name_before

    def test_a_store_names_only_what_it_holds(self, named_store):
        before = len(keys._held)
        values = [named_store.get(n, lambda n=n: [[n] * 10, (n, "x")]) for n in range(200)]
        held = [value for value in values if keys.key_of(value)[0] == "kept"]
        assert 0 < len(held) == len(named_store.entries) < len(values)
        assert len(keys._held) - before == 3 * len(held)  # each value and its two parts
        named_store.clear()
        assert len(keys._held) == before
        assert all(keys.key_of(value)[0] == "list" for value in values)

    def test_a_derived_value_is_named_without_being_worked_out(self):
        worked_out = []

        def meta(request, title):
            worked_out.append(title)
            return {"url": request.build_absolute_uri("/"), "title": title}

        request = RequestFactory().get("/", secure=True)
        value = kept.derived(meta, request, "One")
        assert keys.key_of(value) == keys.key_of(kept.derived(meta, request, "One"))
        assert keys.key_of(value) != keys.key_of(kept.derived(meta, request, "Two"))
        plain = RequestFactory().get("/")
        assert keys.key_of(value) != keys.key_of(kept.derived(meta, plain, "One"))
        assert worked_out == []
        assert value["url"] == "https://testserver/"
        assert worked_out == ["One"]


class TestPagesKeptPerTier:
    """A logged-in reader's lesson page is kept once per tier (the lesson, read in full or
    not, the address), with the reader's own parts filled in around it on each request."""

    @staticmethod
    def kept_pages() -> list:
        return [
            entry[2]
            for key, entry in kept.whole_pages.entries.items()
            if key[1].startswith("page:")
        ]

    def test_readers_of_one_tier_share_one_page_and_another_tier_gets_its_own(self, premium_lesson):
        from access import services

        url = premium_lesson.get_absolute_url()
        for email in ("one@example.com", "two@example.com", "three@example.com"):
            logged_in(email).get(url)
        assert len(self.kept_pages()) == 1  # the teaser's, for all three
        buyer = make_user(email="buyer@example.com")
        services.grant(user=buyer, series=premium_lesson.series)
        client = Client()
        client.force_login(buyer)
        assert "SECRET-PREMIUM-SENTENCE" in client.get(url).text
        assert len(self.kept_pages()) == 2
        (teaser,) = [p for p in self.kept_pages() if "SECRET-PREMIUM-SENTENCE" not in str(p)]
        assert "Public opening" in str(teaser)

    def test_a_kept_page_holds_nothing_of_its_reader(self, free_lesson):
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_user(email="someone.particular@example.com"))
        html = client.get(free_lesson.get_absolute_url()).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
        ((texts, holes),) = self.kept_pages()
        skeleton = "".join(texts)
        assert holes  # the messages
        # A logged-in reader's header is kept with the page: it shows no one in particular.
        assert "Log out" in skeleton
        assert token not in skeleton and "someone.particular" not in skeleton
        assert kept.CSRF_MARKER not in html

    def test_staff_and_readers_are_kept_apart_by_the_header_they_get(self, free_lesson):
        staff = make_user(email="staff@example.com", is_staff=True)
        reader = make_user(email="reader@example.com")
        url = free_lesson.get_absolute_url()
        for user in (reader, staff, reader):
            client = Client()
            client.force_login(user)
            html = client.get(url).text
            assert (">Admin</a>" in html) is user.is_staff
        assert len(self.kept_pages()) == 2

    def test_an_own_block_inside_a_kept_part_has_no_reader_to_show(self):
        source = '{% shared "part" %}{% own %}[{{ title }}]{% endown %}{% endshared %}'
        with pytest.raises(kept.UnnamedVariable):
            render(source, {"title": "page's"})
        assert render("{% own %}[{{ title }}]{% endown %}", {"title": "own"}) == "[own]"


class TestOwnBlocksWithValues:
    """`{% own lesson=lesson %}`: a reader's part about an item of a kept page (a mark beside
    each lesson of a list) takes the item by name. The value is read when the page is kept,
    from the kept page's own context, so only what its key names can be given to it."""

    compiled: list = []
    SOURCE = (
        "{% for item in items %}<{{ item }}:{% own item=item %}"
        "{% if item in done %}done{% endif %}{% endown %}>{% endfor %}"
    )

    @staticmethod
    def kept_page(source, values):
        """The page as render_page keeps it: its texts between holes, and the holes."""
        engine = Engine(libraries={"shared": "caching.templatetags.shared"})
        template = engine.from_string("{% load shared %}" + source)
        # kept compiled, as the template loader keeps a site's templates: a kept page names
        # its holes by where their blocks are, and finds them while they are compiled
        TestOwnBlocksWithValues.compiled.append(template)
        holes: list = []
        context = kept._kept_context(Context(), "page:test", values, ("", ""), holes)
        return template.render(context).split(kept.HOLE_MARKER), holes

    def test_the_value_is_kept_with_its_hole_and_the_reader_fills_it(self):
        texts, holes = self.kept_page(self.SOURCE, {"items": [1, 2, 3]})
        assert texts == ["<1:", "><2:", "><3:", ">"]
        assert [values for _place, values in holes] == [{"item": 1}, {"item": 2}, {"item": 3}]
        for done, expected in (({2}, "<1:><2:done><3:>"), ({1, 3}, "<1:done><2:><3:done>")):
            reader = Context({"done": done})
            filled = [texts[0]]
            for (place, values), text in zip(holes, texts[1:], strict=True):
                node = kept._own_blocks[place]  # the block, found by where it is
                with reader.push(values):
                    filled.append(node.nodelist.render(reader))
                filled.append(text)
            assert "".join(filled) == expected

    def test_a_value_the_kept_page_does_not_name_is_refused(self):
        source = "{% own who=user.email %}{{ who }}{% endown %}"
        with pytest.raises(kept.UnnamedVariable, match='reads "user"'):
            self.kept_page(source, {})

    def test_on_a_page_rendered_for_one_reader_it_is_rendered_in_place(self):
        assert render(self.SOURCE, {"items": [1, 2], "done": {2}}) == "<1:><2:done>"

    @pytest.mark.parametrize("tag", ["{% own item %}", "{% own item=item extra %}"])
    def test_it_takes_named_values_only(self, tag):
        with pytest.raises(TemplateSyntaxError):
            render(tag + "x{% endown %}", {"item": 1})


class TestAChangeThisWorkerHasNotSeenYet:
    """Another process changes a lesson (made premium with new text, unpublished, moved to
    another series) and this worker still decides access on the lesson it keeps, for the
    seconds before it reads the new generation. Its pages are made with the text read now
    (pages.lesson_body): text the decision did not allow never reaches the page."""

    CHANGES = {
        "made premium": {"access": Lesson.Access.PREMIUM},
        "unpublished": {"status": Lesson.Status.DRAFT},
        "moved to another series": "move",
    }

    def change_elsewhere(self, lesson, change):
        fields = {
            "body_html": "<p>NEW-TEXT-AFTER-THE-CHANGE</p>",
            "teaser_html": "<p>New public opening.</p>",
        }
        if change == "move":
            other = Series.objects.create(title="Another", slug="another", is_published=True)
            fields["series_id"] = other.pk
            fields["access"] = Lesson.Access.PREMIUM
        else:
            fields.update(change)
        # The other process's write, without this worker's own bookkeeping (its generation
        # is read again only after GENERATION_CHECK_SECONDS).
        QuerySet.update(Lesson.objects.filter(pk=lesson.pk), **fields)
        # This worker made no page of it yet (nor did any other), its lesson is kept.
        kept.fragments.clear()
        kept.whole_pages.clear()
        anonymous.pages.clear()
        cache.clear()

    @pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
    def test_an_anonymous_reader(self, free_lesson, change):
        Client().get(free_lesson.get_absolute_url())  # the lesson, kept as free
        self.change_elsewhere(free_lesson, change)
        page = Client().get(free_lesson.get_absolute_url() + "?utm_source=x").text
        assert "NEW-TEXT-AFTER-THE-CHANGE" not in page
        assert "Free words." not in page  # nor the old text, which no longer is free

    @pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
    def test_a_logged_in_reader_without_access(self, free_lesson, change):
        reader = logged_in()
        reader.get(free_lesson.get_absolute_url())
        self.change_elsewhere(free_lesson, change)
        page = reader.get(free_lesson.get_absolute_url()).text
        assert "NEW-TEXT-AFTER-THE-CHANGE" not in page

    def test_the_public_opening_is_shown_meanwhile_while_the_lesson_is_out(self, free_lesson):
        Client().get(free_lesson.get_absolute_url())
        self.change_elsewhere(free_lesson, self.CHANGES["made premium"])
        page = Client().get(free_lesson.get_absolute_url() + "?utm_source=x").text
        assert "New public opening." in page

    def test_an_unchanged_lesson_shows_its_whole_text(self, free_lesson):
        page = Client().get(free_lesson.get_absolute_url()).text
        assert "Free words." in page
