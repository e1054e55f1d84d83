"""Redeeming a PIN: every outcome, with its message and status."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from access import feedback, handoff, services
from access.models import AccessPin, Entitlement, RedemptionAttempt
from config.languages import address
from tests.access.helpers import REDEEM, issue
from tests.accounts.flows import log_in_by_code, sign_up
from tests.factories import make_lesson, make_user

pytestmark = pytest.mark.django_db
Outcome = RedemptionAttempt.Outcome


def post_pin(client, pin, next_url="", language="en"):
    return client.post(address(REDEEM, language), {"pin": pin, "next": next_url})


class TestOutcomes:
    def test_unlocked_redirects_to_next_and_reads_in_full(self, reader_client, premium_lesson):
        pin = issue(premium_lesson.series)
        url = premium_lesson.get_absolute_url()
        assert "SECRET-PREMIUM-SENTENCE" not in reader_client.get(url).text
        response = post_pin(reader_client, pin.lower().replace("-", ""), next_url=url)
        assert response.status_code == 302
        assert response["Location"] == url
        page = reader_client.get(url).text
        assert "SECRET-PREMIUM-SENTENCE" in page
        assert "Unlocked: you can now read the premium lessons" in page

    @pytest.mark.parametrize(
        ("language", "numbers", "message"),
        [
            ("en", (2, 3, 4), "Unlocked: you can now read lessons 2–4 of “Became an AI Engineer”."),
            ("en", (3,), "Unlocked: you can now read lesson 3 of “Became an AI Engineer”."),
            (
                "id",
                (2, 3, 4),
                "Terbuka! Sekarang kamu bisa membaca pelajaran 2–4 dari “Became an AI Engineer”.",
            ),
        ],
        ids=["lessons", "one lesson", "Indonesian"],
    )
    def test_a_pin_for_some_lessons_names_them_and_never_says_all(
        self, reader, series, language, numbers, message
    ):
        lessons = {n: make_lesson(series, number=n, access="premium") for n in (2, 3, 4, 5)}
        client = Client()
        client.force_login(reader)
        pin = issue(series, lessons=[lessons[n] for n in numbers])
        page = client.get(post_pin(client, pin, language=language)["Location"])
        assert [str(m) for m in page.context["messages"]] == [message]

    def test_unsafe_next_goes_to_the_first_lesson_unlocked_instead(
        self, reader_client, premium_lesson
    ):
        pin = issue(premium_lesson.series)
        response = post_pin(reader_client, pin, next_url="https://evil.example/")
        assert response["Location"] == premium_lesson.get_absolute_url()

    def test_without_a_lesson_to_go_back_to_the_reader_lands_on_the_first_one_unlocked(
        self, reader_client, reader, series
    ):
        """From the DM's link: straight to reading, not to a list to choose from."""
        two, three = (make_lesson(series, number=n, access="premium") for n in (2, 3))
        assert post_pin(reader_client, issue(series, lessons=[three]))["Location"] == (
            three.get_absolute_url()
        )
        assert post_pin(reader_client, issue(series))["Location"] == two.get_absolute_url()
        already = post_pin(reader_client, issue(series))
        assert already["Location"] == series.get_absolute_url()

    def test_already_unlocked_uses_nothing(self, reader_client, reader, premium_lesson):
        services.grant(user=reader, series=premium_lesson.series)
        pin = issue(premium_lesson.series)
        response = post_pin(reader_client, pin, premium_lesson.get_absolute_url())
        assert response.status_code == 302
        assert AccessPin.objects.get().use_count == 0
        page = reader_client.get(response["Location"]).text
        assert "You already have access" in page

    def test_redeeming_the_same_pin_twice_is_already_unlocked(self, reader_client, series):
        pin = issue(series, max_uses=5)
        post_pin(reader_client, pin)
        post_pin(reader_client, pin)
        assert AccessPin.objects.get().use_count == 1
        assert Entitlement.objects.count() == 1

    @pytest.mark.parametrize(
        ("make_pin", "status", "message"),
        [
            (lambda s: "ZZZZ-ZZZZ-ZZZZ", 400, "That PIN is not valid"),
            (lambda s: "not a pin!", 400, "A PIN has 12 letters and digits"),
            (
                lambda s: issue(s, expires_at=timezone.now() - timedelta(minutes=1)),
                410,
                "That PIN has expired",
            ),
            (lambda s: _revoked(s), 410, "That PIN has been withdrawn"),
            (lambda s: _used_up(s), 409, "That PIN has already been used"),
        ],
        ids=["unknown", "malformed", "expired", "revoked", "used up"],
    )
    def test_refusals_say_why_with_the_right_status(
        self, reader_client, series, make_pin, status, message
    ):
        response = post_pin(reader_client, make_pin(series))
        assert response.status_code == status
        assert message in response.text
        assert not Entitlement.objects.filter(user=response.wsgi_request.user).exists()

    def test_empty_pin_is_a_form_error(self, reader_client):
        response = post_pin(reader_client, "")
        assert response.status_code == 400
        assert "Type the PIN you received." in response.text

    def test_a_wrong_pin_keeps_what_was_typed_with_the_error_beside_the_field(
        self, reader_client, series
    ):
        response = post_pin(reader_client, "zzzz zzzz zzzz")
        page = response.text
        field = re.search(r"<input[^>]*name=\"pin\"[^>]*>", page)[0]
        assert 'value="zzzz zzzz zzzz"' in field
        assert 'aria-invalid="true"' in field
        assert 'aria-describedby="id_pin_error"' in field
        errors = page.index('id="id_pin_error"')
        assert "That PIN is not valid" in page[errors : errors + 300]
        assert errors < page.index(field) < page.index('type="submit"', page.index(field))

    def test_a_malformed_pin_is_not_counted_against_the_reader(self, reader_client):
        post_pin(reader_client, "nonsense")
        assert not RedemptionAttempt.objects.exists()

    def test_get_shows_the_form(self, client):
        response = client.get(REDEEM)
        assert response.status_code == 200
        assert 'name="pin"' in response.text


def _revoked(series):
    pin = issue(series)
    services.revoke_pins(AccessPin.objects.all(), reason="leaked")
    return pin


def _used_up(series):
    pin = issue(series)
    services.redeem(user=make_user(), typed_pin=pin)
    return pin


def test_a_second_reader_is_refused_a_single_use_pin(client, series):
    pin = issue(series)
    first, second = make_user(), make_user()
    assert services.redeem(user=first, typed_pin=pin).outcome == Outcome.UNLOCKED
    assert services.redeem(user=second, typed_pin=pin).outcome == Outcome.USED_UP


def test_a_pin_with_n_uses_serves_n_readers(series):
    pin = issue(series, max_uses=3)
    outcomes = [services.redeem(user=make_user(), typed_pin=pin).outcome for _ in range(4)]
    assert outcomes == [Outcome.UNLOCKED] * 3 + [Outcome.USED_UP]


def test_narrowed_pin_unlocks_only_its_lessons(reader, series):
    two = make_lesson(series, number=2, access="premium")
    three = make_lesson(series, number=3, access="premium")
    pin = issue(series, lessons=[two])
    services.redeem(user=reader, typed_pin=pin)
    grants = Entitlement.objects.grants_for(reader)
    assert grants[0].lesson_ids == frozenset({two.pk})
    assert three.pk not in grants[0].lesson_ids


def test_access_days_set_when_access_ends(reader, series):
    pin = issue(series, access_days=30)
    result = services.redeem(user=reader, typed_pin=pin)
    expected = timezone.now() + timedelta(days=30)
    assert abs(result.entitlement.expires_at - expected) < timedelta(minutes=1)
    assert "until" in feedback.message(result)


def test_every_attempt_is_logged_with_user_and_ip(reader, series):
    pin = issue(series)
    services.redeem(user=reader, typed_pin="WRNG-WRNG-WRNG", ip="203.0.113.9")
    services.redeem(user=reader, typed_pin=pin, ip="203.0.113.9")
    log = list(RedemptionAttempt.objects.order_by("pk").values_list("outcome", "user", "ip"))
    assert log == [
        (Outcome.UNKNOWN, reader.pk, "203.0.113.9"),
        (Outcome.UNLOCKED, reader.pk, "203.0.113.9"),
    ]


def test_the_database_never_holds_the_pin(series):
    pin = issue(series)
    record = AccessPin.objects.values().get()
    flat = pin.replace("-", "")
    assert all(flat not in str(value) and pin not in str(value) for value in record.values())
    assert record["hint"] == flat[-4:]


class TestAnonymousReader:
    """A buyer who types their PIN before having an account: sign-up (or log-in) comes next,
    and they land on the lesson, unlocked, with one message."""

    def test_is_sent_to_sign_up_with_the_pin_kept_out_of_the_url(self, client, premium_lesson):
        pin = issue(premium_lesson.series)
        response = post_pin(client, pin, premium_lesson.get_absolute_url())
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/signup/")
        assert pin not in response["Location"]
        assert pin.replace("-", "") not in response["Location"]
        assert not Entitlement.objects.exists()

    @pytest.mark.parametrize("page", ["/accounts/signup/", "/accounts/login/"])
    def test_sign_up_and_log_in_say_the_pin_will_be_redeemed(self, client, premium_lesson, page):
        post_pin(client, issue(premium_lesson.series), premium_lesson.get_absolute_url())
        text = client.get(page).text
        assert "Your access PIN is ready: as soon as you have signed up or logged in" in text
        assert "Your access PIN is ready" not in Client().get(page).text

    def test_the_banner_asks_a_reader_without_an_account_to_sign_up_not_only_to_log_in(
        self, premium_lesson
    ):
        client = Client()
        post_pin(client, issue(premium_lesson.series), premium_lesson.get_absolute_url(), "id")
        page = client.get("/id/accounts/signup/").text
        banner = re.search(r'<p class="banner banner--pin"[^>]*>(.*?)</p>', page, re.S)[1]
        assert "PIN akses kamu sudah siap: begitu kamu selesai daftar atau masuk" in banner

    def test_sign_up_offers_log_in_instead(self, client, premium_lesson):
        url = premium_lesson.get_absolute_url()
        signup = client.get(post_pin(client, issue(premium_lesson.series), url)["Location"]).text
        assert f'href="/accounts/login/?next={quote(url, safe="")}"' in signup

    def test_pin_is_redeemed_after_sign_up_with_one_message(self, client, premium_lesson):
        pin = issue(premium_lesson.series)
        url = premium_lesson.get_absolute_url()
        post_pin(client, pin, url)
        response = sign_up(client, "new@example.com", url)
        assert response["Location"] == url
        page = client.get(url)
        assert "SECRET-PREMIUM-SENTENCE" in page.text
        assert [str(m) for m in page.context["messages"]] == [
            "Unlocked: you can now read the premium lessons of “Became an AI Engineer”."
        ]

    def test_a_returning_reader_who_signs_up_again_is_logged_in_and_lands_unlocked(
        self, client, reader, premium_lesson
    ):
        """No dead end: her address has an account, so the sign-up's code logs her in."""
        url = premium_lesson.get_absolute_url()
        signup = post_pin(client, issue(premium_lesson.series), url)["Location"]
        response = sign_up(client, reader.email, url)
        assert signup.startswith("/accounts/signup/")
        assert response["Location"] == url
        assert "SECRET-PREMIUM-SENTENCE" in client.get(url).text
        assert Entitlement.objects.get().user == reader

    def test_pin_is_redeemed_after_log_in_and_they_land_on_the_lesson(
        self, client, reader, premium_lesson
    ):
        pin = issue(premium_lesson.series)
        url = premium_lesson.get_absolute_url()
        post_pin(client, pin, url)
        response = client.post(
            f"/accounts/login/?next={url}",
            {"login": reader.email, "password": "correct horse battery"},
        )
        assert response.status_code == 302
        assert response["Location"] == url
        assert "SECRET-PREMIUM-SENTENCE" in client.get(url).text
        assert Entitlement.objects.filter(user=reader).count() == 1

    def test_pin_is_redeemed_after_log_in_by_emailed_code(self, client, reader, premium_lesson):
        url = premium_lesson.get_absolute_url()
        post_pin(client, issue(premium_lesson.series), url)
        response = log_in_by_code(client, reader.email, url)
        assert response["Location"] == url
        assert "SECRET-PREMIUM-SENTENCE" in client.get(url).text

    @pytest.mark.parametrize(
        ("make_pin", "status", "message"),
        [
            (lambda s: "ZZZZ-ZZZZ-ZZZZ", 400, "That PIN is not valid"),
            (
                lambda s: issue(s, expires_at=timezone.now() - timedelta(minutes=1)),
                410,
                "That PIN has expired",
            ),
            (lambda s: _revoked(s), 410, "That PIN has been withdrawn"),
            (lambda s: _used_up(s), 409, "If you used it yourself, log in"),
        ],
        ids=["unknown", "expired", "revoked", "used up"],
    )
    def test_a_pin_that_cannot_unlock_anything_is_refused_before_sign_up(
        self, client, premium_lesson, make_pin, status, message
    ):
        pin = make_pin(premium_lesson.series)
        before = RedemptionAttempt.objects.count()
        response = client.post(
            REDEEM,
            {"pin": pin, "next": premium_lesson.get_absolute_url(), "lesson": premium_lesson.pk},
            REMOTE_ADDR="198.51.100.7",
        )
        assert response.status_code == status
        assert message in response.text
        assert "Your access PIN is ready" not in client.get("/accounts/signup/").text
        attempt = RedemptionAttempt.objects.order_by("pk").last()
        assert RedemptionAttempt.objects.count() == before + 1
        assert (attempt.user, attempt.ip, attempt.lesson) == (None, "198.51.100.7", premium_lesson)

    def test_the_check_tells_no_more_than_a_logged_in_redemption(
        self, client, reader_client, series
    ):
        """Both answer with the same message and status, whatever the PIN."""
        for make_pin in (lambda: "ZZZZ-ZZZZ-ZZZZ", lambda: _revoked(series)):
            pin = make_pin()
            mine, theirs = post_pin(client, pin), post_pin(reader_client, pin)
            assert mine.status_code == theirs.status_code
            assert str(mine.context["form"].errors["pin"]) == str(
                theirs.context["form"].errors["pin"]
            )

    def test_a_pin_that_stops_working_while_they_sign_up_lands_on_the_lesson_with_the_reason(
        self, client, reader, premium_lesson
    ):
        url = premium_lesson.get_absolute_url()
        post_pin(client, issue(premium_lesson.series), url)
        services.revoke_pins(AccessPin.objects.all(), reason="refunded")
        response = client.post(
            f"/accounts/login/?next={url}",
            {"login": reader.email, "password": "correct horse battery"},
            follow=True,
        )
        assert response.request["PATH_INFO"] == url
        assert "That PIN has been withdrawn" in response.text
        assert "SECRET-PREMIUM-SENTENCE" not in response.text


def test_paywall_box_has_the_redeem_form_on_locked_lessons_only(reader_client, reader, series):
    locked = make_lesson(series, number=2, access="premium")
    page = reader_client.get(locked.get_absolute_url()).text
    assert f'action="{REDEEM}"' in page
    assert f'name="next" value="{locked.get_absolute_url()}"' in page
    services.grant(user=reader, series=series)
    assert f'action="{REDEEM}"' not in reader_client.get(locked.get_absolute_url()).text


class TestPasting:
    """Instagram copies the whole message: the PIN field takes the PIN out of it."""

    def test_the_sellers_whole_message_unlocks(self, reader_client, premium_lesson):
        series = premium_lesson.series
        pin = issue(series)
        dm = handoff.message(series=series, pin=pin, link="https://x.example/access/redeem/")
        response = post_pin(reader_client, dm, premium_lesson.get_absolute_url())
        assert response.status_code == 302
        assert "SECRET-PREMIUM-SENTENCE" in reader_client.get(response["Location"]).text

    def test_a_pasted_line_waits_through_sign_up_and_unlocks(self, client, premium_lesson):
        pin = issue(premium_lesson.series)
        url = premium_lesson.get_absolute_url()
        line = f"PIN akses kamu: {pin.lower().replace('-', ' ').replace('0', 'o')}"
        response = post_pin(client, line, url)
        assert response["Location"].startswith("/accounts/signup/")
        sign_up(client, "pasted@example.com", url)
        assert "SECRET-PREMIUM-SENTENCE" in client.get(url).text

    def test_two_different_pins_get_a_clear_message_and_count_for_nothing(
        self, reader_client, series
    ):
        response = post_pin(reader_client, f"{issue(series)} or {issue(series)}?")
        assert response.status_code == 400
        assert "holds two different PINs" in response.text
        assert not RedemptionAttempt.objects.exists()

    def test_a_refused_pin_is_shown_as_it_was_read(self, reader_client):
        response = post_pin(reader_client, "Your access PIN: zzzz-zzzz-zzzz\nThanks!")
        field = re.search(r"<input[^>]*name=\"pin\"[^>]*>", response.text)[0]
        assert 'value="ZZZZ-ZZZZ-ZZZZ"' in field

    def test_the_redeem_page_fills_the_field_from_the_links_fragment_by_a_static_script(
        self, client
    ):
        page = client.get(REDEEM).text
        assert '<script src="/static/js/pin-fragment.js" defer></script>' in page
        assert "<script>" not in page
