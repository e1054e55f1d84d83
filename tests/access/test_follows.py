"""Free readers follow a series: from its free lessons and its page, with one tap when logged
in, by e-mail with a confirmed link (double opt-in) otherwise; pages kept for every anonymous
reader carry nothing personal; announcements then reach them."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from access import announcements, follows
from access.models import Follow
from tests.factories import make_follow, make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/access/follow/confirm/\S+/")


def follow_url(series):
    return reverse("access:follow", args=[series.slug])


def confirm_link() -> str:
    return LINK.search(mail.outbox[-1].body)[0]


@pytest.fixture
def pages(series, free_lesson, premium_lesson):
    """The pages that offer following: the series page and a free lesson."""
    return [series.get_absolute_url(), free_lesson.get_absolute_url()]


class TestTheBoxOnThePages:
    def test_anonymous_readers_get_an_address_field_and_nothing_personal(self, pages, series):
        for url in pages:
            page = Client().get(url).text
            box = re.search(r'<section class="follow".*?</section>', page, re.S)[0]
            assert f'action="{follow_url(series)}"' in box, url
            assert 'type="email"' in box and 'autocomplete="email"' in box, url
            assert "csrfmiddlewaretoken" not in box, url

    def test_premium_lessons_do_not_offer_it(self, premium_lesson):
        assert 'class="follow"' not in Client().get(premium_lesson.get_absolute_url()).text

    def test_a_logged_in_reader_follows_with_one_tap(self, pages, series, reader_client, reader):
        page = reader_client.get(pages[1]).text
        assert "Follow the series" in page and 'type="email"' not in page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        response = reader_client.post(
            follow_url(series), {"csrfmiddlewaretoken": token, "next": pages[1]}
        )
        assert response["Location"] == pages[1] + "#site-follow-title"
        assert Follow.objects.get().user == reader
        for url in pages:
            assert "Stop following" in reader_client.get(url).text, url

    def test_a_readers_page_names_whether_they_follow(self, pages, series, reader_client, reader):
        """Readers' pages are kept per key: one who follows and one who does not, asking the
        same pages in turn, each see their own box."""
        other = Client()
        other.force_login(make_user())
        make_follow(series, user=reader)
        for url in pages:
            assert "Stop following" in reader_client.get(url).text, url
            assert "Follow the series" in other.get(url).text, url
            assert "Stop following" in reader_client.get(url).text, url

    def test_stopping(self, series, reader_client, reader):
        make_follow(series, user=reader)
        reader_client.post(follow_url(series), {"action": "stop"})
        assert not Follow.objects.exists()

    def test_a_logged_in_readers_post_needs_its_csrf_token(self, series, reader):
        client = Client(enforce_csrf_checks=True)
        client.force_login(reader)
        assert client.post(follow_url(series)).status_code == 403
        assert not Follow.objects.exists()


class TestByEmail:
    def test_a_confirmation_link_first_and_nothing_stored(self, series):
        response = Client(enforce_csrf_checks=True).post(
            follow_url(series), {"email": "Fan@Example.com"}
        )
        assert response.status_code == 200
        assert "we sent a link to <strong>Fan@Example.com</strong>" in response.text
        assert "no-store" in response["Cache-Control"]
        assert not Follow.objects.exists()
        (message,) = mail.outbox
        assert message.to == ["Fan@Example.com"]
        assert series.title in message.subject

    def test_the_link_shows_a_button_and_pressing_it_follows(self, series):
        Client().post(follow_url(series), {"email": "fan@example.com"})
        link = confirm_link()
        page = Client().get(link)
        assert page.status_code == 200 and "Yes, e-mail me new lessons" in page.text
        assert not Follow.objects.exists()  # mail scanners open links
        done = Client(enforce_csrf_checks=True).post(link)
        assert "each new lesson" in done.text
        Client().post(link)  # a second press changes nothing
        follow = Follow.objects.get()
        assert (follow.email, follow.user, follow.series) == ("fan@example.com", None, series)

    def test_in_the_language_of_the_page(self, series):
        Client().post("/id" + follow_url(series), {"email": "pembaca@example.com"})
        assert "Konfirmasi" in mail.outbox[-1].subject
        Client().post(confirm_link())
        assert Follow.objects.get().language == "id"

    @pytest.mark.parametrize("token", ["x", "eyJzIjoxfQ:1:forged", "another purpose"])
    def test_a_forged_link_follows_nothing(self, series, reader, token):
        if token == "another purpose":  # signed by us, for something else
            token = announcements.unsubscribe_token(reader)
        response = Client().post(reverse("access:follow_confirm", args=[token]))
        assert response.status_code == 404
        assert not Follow.objects.exists()

    def test_an_old_link_has_expired(self, series, monkeypatch):
        token = follows.confirmation_token(series=series, email="late@example.com", language="")
        monkeypatch.setattr(follows, "CONFIRM_DAYS", 0)
        response = Client().post(reverse("access:follow_confirm", args=[token]))
        assert response.status_code == 404

    @pytest.mark.parametrize("typed", ["", "not-an-address", "a@b"])
    def test_a_bad_address_is_refused_with_a_message(self, series, typed):
        response = Client().post(follow_url(series), {"email": typed})
        assert response.status_code == 400
        assert 'class="errorlist"' in response.text
        assert mail.outbox == []

    def test_three_links_an_hour_per_address(self, series):
        statuses = [
            Client().post(follow_url(series), {"email": "fan@example.com"}).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        assert len(mail.outbox) == 3
        assert Client().post(follow_url(series), {"email": "other@example.com"}).status_code == 200

    def test_an_unpublished_series_cannot_be_followed(self):
        hidden = make_series(is_published=False)
        assert Client().post(follow_url(hidden), {"email": "x@example.com"}).status_code == 404
        assert Client().get(follow_url(hidden)).status_code == 404

    def test_a_follow_confirmed_by_email_becomes_the_readers_when_they_follow(self, series):
        reader = make_user(email="fan@example.com")
        make_follow(series, "fan@example.com")
        follows.follow(user=reader, series=series)
        assert list(Follow.objects.values_list("email", "user")) == [("fan@example.com", reader.pk)]


class TestAnnouncementsReachFollowers:
    def test_a_follower_gets_the_new_lesson_with_the_offer_and_unsubscribe(self, series):
        Client().post(follow_url(series), {"email": "fan@example.com"})
        Client().post(confirm_link())
        lesson = make_lesson(series, access="premium", title="Brand new")
        mail.outbox.clear()
        announcements.queue(lesson=lesson, site_url="https://x.example")
        announcements.send_due()
        (message,) = mail.outbox
        assert "Brand new" in message.subject
        assert "Ask for a PIN." not in message.body  # the paywall text is not the offer
        unsubscribe = re.search(r"https://x\.example(/access/unsubscribe/\S+/)", message.body)[1]
        assert message.extra_headers["List-Unsubscribe"] == f"<https://x.example{unsubscribe}>"
        Client().post(unsubscribe)
        assert not Follow.objects.exists()


def test_my_access_lists_the_series_followed_with_a_way_to_stop(reader_client, reader, series):
    make_follow(series, user=reader)
    page = reader_client.get(reverse("access:mine")).text
    assert "Series you follow" in page and series.title in page
    reader_client.post(follow_url(series), {"action": "stop", "next": reverse("access:mine")})
    assert "Series you follow" not in reader_client.get(reverse("access:mine")).text
