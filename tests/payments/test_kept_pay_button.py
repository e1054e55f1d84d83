"""The pay button in pages kept per tier (caching.kept.render_page): the paywall is kept with
the page, and the button is told by name whether its reader is logged in, so the logged-out
link never reaches a logged-in reader and the one-tap form never reaches an anonymous one,
whoever asked first."""

import pytest
from django.template import Context, Template
from django.test import Client

from caching import kept
from tests.factories import make_user

pytestmark = pytest.mark.django_db

LINK = 'href="/pay/series/{slug}/?lesson={pk}"'
FORM = 'action="/pay/series/{slug}/"'


def _page(client, lesson):
    return client.get(lesson.get_absolute_url()).content.decode()


def _logged_in(email):
    client = Client()
    client.force_login(make_user(email=email))
    return client


def test_a_logged_in_reader_after_an_anonymous_one_gets_the_one_tap_form(gateway, premium):
    link = LINK.format(slug=premium.series.slug, pk=premium.pk)
    form = FORM.format(slug=premium.series.slug)
    anonymous = _page(Client(), premium)
    assert link in anonymous and form not in anonymous
    for email in ("one@example.com", "two@example.com"):  # the second from the kept page
        page = _page(_logged_in(email), premium)
        assert form in page and link not in page
        assert 'name="csrfmiddlewaretoken"' in page and kept.CSRF_MARKER not in page


def test_an_anonymous_reader_after_logged_in_ones_gets_the_link(gateway, premium):
    link = LINK.format(slug=premium.series.slug, pk=premium.pk)
    form = FORM.format(slug=premium.series.slug)
    _page(_logged_in("one@example.com"), premium)
    _page(_logged_in("two@example.com"), premium)
    page = _page(Client(), premium)
    assert link in page and form not in page
    assert "data-paywall-seen" not in page and "csrfmiddlewaretoken" not in page


def test_each_reader_gets_their_own_token_in_the_kept_form(gateway, premium):
    one, two = _logged_in("one@example.com"), _logged_in("two@example.com")
    _page(one, premium), _page(two, premium)
    tokens = {client.cookies["csrftoken"].value for client in (one, two)}
    assert len(tokens) == 2
    for client in (one, two):
        page = _page(client, premium)
        others = tokens - {client.cookies["csrftoken"].value}
        assert 'name="csrfmiddlewaretoken"' in page
        # the masked token differs per response; the form names no other reader's cookie
        assert not any(other in page for other in others)


BUTTON = Template('{% include "payments/_pay_button.html" %}')


def test_the_button_is_never_guessed_from_a_missing_reader(selling, gateway):
    """Not told whether its reader is logged in, the button refuses rather than show the
    logged-out link (the mistake a kept part would otherwise make in silence)."""
    with pytest.raises(TypeError, match="authenticated"):
        BUTTON.render(Context({"series": selling, "lesson": None}))


def test_in_a_kept_part_the_button_reads_only_what_it_is_given(selling, gateway, settings):
    settings.KEPT_TEMPLATES_STRICT = True
    part = Template(
        '{% load shared %}{% shared "pay" series=series %}'
        '{% include "payments/_pay_button.html" with lesson=None %}{% endshared %}'
    )
    outer = Context({"series": selling, "authenticated": True, "user": object()})
    with pytest.raises(kept.UnnamedVariable, match='"authenticated"'):
        part.render(outer)


def test_told_by_name_it_shows_the_button_of_its_kind(selling, gateway):
    values = {"series": selling, "lesson": None}
    form = BUTTON.render(Context({**values, "authenticated": True}))
    link = BUTTON.render(Context({**values, "authenticated": False}))
    assert FORM.format(slug=selling.slug) in form and "<form" not in link
    assert f'href="/pay/series/{selling.slug}/"' in link
