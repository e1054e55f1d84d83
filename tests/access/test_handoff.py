"""The seller's DM hand-off: a PIN for one buyer from a phone, the message to paste, finding
a buyer's PIN again and replacing a lost one."""

import contextlib
import re
import time
import types
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from access import services
from access.models import AccessPin, Entitlement, HandoffToken
from access.offer.services import save_offer
from config.languages import address
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
FOR_BUYER = reverse("admin:access_accesspin_for_buyer")
PIN = re.compile(r'id="handoff-pin">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<')


def staff_in(group: str) -> Client:
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def issuer():
    return staff_in("PIN issuers")


def hand_off(client, series, buyer="@budi.dev", once=""):
    return client.post(FOR_BUYER, {"series": series.pk, "buyer": buyer, "once": once})


@contextlib.contextmanager
def clock(monkeypatch, **moved):
    """Signatures made and checked as if at this much from now (django.core.signing)."""
    at = time.time() + timedelta(**moved).total_seconds()
    with monkeypatch.context() as patched:
        patched.setattr("django.core.signing.time", types.SimpleNamespace(time=lambda: at))
        yield


def form_token(page) -> str:
    return re.search(r'name="once" value="([^"]+)"', page.text)[1]


class TestIssuingForABuyer:
    def test_the_form_asks_only_for_the_series_and_the_buyer(self, issuer, series):
        form = issuer.get(FOR_BUYER).context["form"]
        assert list(form.fields) == ["series", "buyer"]

    def test_the_series_is_preselected_the_only_one_or_the_last_used(self, issuer, series):
        assert issuer.get(FOR_BUYER).context["form"]["series"].value() == series.pk
        other = make_series(title="Another")
        hand_off(issuer, other)
        assert issuer.get(FOR_BUYER).context["form"]["series"].value() == other.pk

    def test_the_result_shows_the_pin_once_large_with_copy_buttons(self, issuer, series):
        response = hand_off(issuer, series)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        pin = PIN.search(response.text)[1]
        record = AccessPin.objects.get()
        assert (record.buyer, record.max_uses, record.whole_series) == ("@budi.dev", 1, True)
        assert response.text.count('data-copy="#handoff-') == 2
        assert pin not in issuer.get(reverse("admin:access_accesspin_changelist")).text
        assert pin not in issuer.get(FOR_BUYER).text

    def test_the_message_links_to_the_redeem_page_with_the_pin_in_the_fragment_only(
        self, issuer, series
    ):
        """The link fills the PIN field (static/js/pin-fragment.js); a fragment never
        reaches a server's log or a Referer, and no link of the seller's page holds it."""
        series.offer.pin_message = "PIN kamu: {pin}\nBuka {link} untuk {series}."
        save_offer(series.offer)
        response = hand_off(issuer, series)
        pin = PIN.search(response.text)[1]
        message = response.context["message"]
        assert message == (
            f"PIN kamu: {pin}\nBuka http://testserver/access/redeem/#pin={pin} untuk "
            f"{series.title}."
        )
        link = urlsplit(re.search(r"http://\S+", message)[0])
        assert (link.path, link.query, link.fragment) == ("/access/redeem/", "", f"pin={pin}")
        assert all(
            pin not in url for url in re.findall(r'(?:href|src|action)="([^"]*)"', response.text)
        )

    def test_without_a_template_the_standard_message_is_in_the_selling_language(
        self, issuer, series
    ):
        series.offer.sales_language = "id"
        save_offer(series.offer)
        message = hand_off(issuer, series).context["message"]
        assert message.startswith("Halo! Makasih sudah membeli “Became an AI Engineer”.")

    @pytest.mark.parametrize(
        ("language", "filled", "tap", "sign_up"),
        [
            ("en", "Your PIN is already filled in there", "Tap", "Sign up or log in"),
            ("id", "PIN akses kamu sudah terisi di sana", "Ketuk", "Daftar atau masuk"),
        ],
    )
    def test_the_standard_message_takes_the_steps_in_the_order_of_its_link(
        self, issuer, series, language, filled, tap, sign_up
    ):
        """The link opens the redeem page with the PIN in its field: the message says so,
        names the page's own button, and asks to sign up only after it, as the page does."""
        series.offer.sales_language = language
        save_offer(series.offer)
        message = hand_off(issuer, series).context["message"]
        page = Client().get(address(reverse("access:redeem"), language)).text
        form = page[page.index('class="redeem-form"') :]
        button = re.search(r'<button type="submit"[^>]*>([^<]+)</button>', form)[1]
        steps = [message.index(s) for s in ("#pin=", filled, f"{tap} {button}.", sign_up)]
        assert steps == sorted(steps)

    def test_an_instagram_buyer_gets_a_button_that_opens_their_dm(self, issuer, series):
        assert 'href="https://ig.me/m/budi.dev"' in hand_off(issuer, series, "@budi.dev").text
        assert "ig.me" not in hand_off(issuer, series, "budi@example.com").text

    def test_the_buyer_is_required(self, issuer, series):
        response = hand_off(issuer, series, buyer="")
        assert response.status_code == 200
        assert "This field is required" in response.text
        assert not AccessPin.objects.exists()

    @pytest.mark.parametrize("who", ["Authors", "anonymous"])
    def test_only_pin_issuers_may_issue(self, series, who):
        client = Client() if who == "anonymous" else staff_in(who)
        response = hand_off(client, series)
        assert response.status_code in (302, 403)
        assert not AccessPin.objects.exists()

    def test_the_admin_index_offers_it_first(self, issuer):
        page = issuer.get(reverse("admin:index")).text
        assert page.index(FOR_BUYER) < page.index('href="/admin/access/"')


class TestFindingABuyer:
    @pytest.mark.parametrize("query", ["budi", "@budi", "BUDI.DEV", "reader@example.com"])
    def test_the_pin_list_is_searchable_by_buyer_and_by_who_redeemed(
        self, issuer, series, reader, query
    ):
        wanted = services.issue_pins(series=series, buyer="@budi.dev")[0]
        services.issue_pins(series=series, buyer="@someone.else")
        services.redeem(user=reader, typed_pin=wanted.pin)
        response = issuer.get(reverse("admin:access_accesspin_changelist"), {"q": query})
        assert [pin.pk for pin in response.context["cl"].result_list] == [wanted.record.pk]
        assert reader.email in response.text


class TestSendingAFormTwice:
    """A reload of the hand-off page, or a second tap, posts the form again: it issues
    nothing more and names the PIN the first post issued."""

    def test_the_buyer_form_issues_one_pin(self, issuer, series):
        once = form_token(issuer.get(FOR_BUYER))
        first = hand_off(issuer, series, once=once)
        pin = PIN.search(first.text)[1]
        again = hand_off(issuer, series, once=once)
        assert again.status_code == 409
        assert AccessPin.objects.count() == 1
        assert "sent already" in again.text and f"••••-••••-{pin[-4:]}" in again.text
        assert pin not in again.text and "no-store" in again["Cache-Control"]
        hand_off(issuer, series, once=form_token(issuer.get(FOR_BUYER)))  # a new form
        assert AccessPin.objects.count() == 2

    def test_taps_before_the_first_is_answered_issue_one_pin_with_the_cache_down(
        self, series, cache_outage
    ):
        """Four taps of one form, each sent before the page of the one before came back (so
        no session has seen an answer), while the shared cache is away: one PIN, and every
        other tap names it. The guard is a row in the database (access/desk/once.py)."""
        seller = make_user(is_staff=True)
        seller.groups.add(Group.objects.get(name="PIN issuers"))
        taps = [Client() for _ in range(4)]
        for tap in taps:
            tap.force_login(seller)
        once = form_token(taps[0].get(FOR_BUYER))
        cache_outage.start()
        answers = [hand_off(tap, series, once=once) for tap in taps]
        assert [answer.status_code for answer in answers] == [200, 409, 409, 409]
        hint = AccessPin.objects.get().hint
        assert all(f"••••-••••-{hint}" in answer.text for answer in answers[1:])
        assert HandoffToken.objects.get().pin.hint == hint

    def test_the_pin_and_its_forms_token_are_written_together(self, issuer, series):
        """A PIN whose token cannot be written (another post wrote it first) is not kept."""
        once = form_token(issuer.get(FOR_BUYER))
        earlier = services.issue_pins(series=series, buyer="@first")[0].record
        HandoffToken.objects.create(token=once, pin=earlier)
        from access.desk import once as guard

        issued, found = guard.issue_once(once, lambda: services.issue_pins(series=series)[0])
        assert (issued, found) == (None, earlier)
        assert list(AccessPin.objects.all()) == [earlier]

    def test_a_form_sent_back_with_errors_keeps_its_token_and_issues_when_corrected(
        self, issuer, series
    ):
        once = form_token(issuer.get(FOR_BUYER))
        refused = hand_off(issuer, series, buyer="", once=once)
        assert form_token(refused) == once
        assert hand_off(issuer, series, once=once).status_code == 200
        assert AccessPin.objects.count() == 1

    def test_replacing_replaces_once(self, issuer, series):
        old = services.issue_pins(series=series, buyer="@budi.dev")[0].record
        url = reverse("admin:access_accesspin_replace", args=[old.pk])
        once = form_token(issuer.get(url))
        assert issuer.post(url, {"once": once}).status_code == 200
        again = issuer.post(url, {"once": once})
        assert again.status_code == 409
        assert (
            AccessPin.objects.count() == 2
            and AccessPin.objects.filter(revoked_at__isnull=True).count() == 1
        )

    @pytest.mark.parametrize("forged", ["x" * 500, "x" * 40, "short"])
    def test_a_forged_token_issues_as_a_new_form_would(self, issuer, series, forged):
        assert hand_off(issuer, series, once=forged).status_code == 200
        assert hand_off(issuer, series, once=forged).status_code == 200
        assert AccessPin.objects.count() == 2
        assert not HandoffToken.objects.exists()

    def test_a_form_opened_too_long_ago_issues_nothing_and_asks_again(
        self, issuer, series, monkeypatch
    ):
        """Its token's row may have been deleted, so the page cannot know whether it issued:
        it says so, and the form comes back with a new token, which issues."""
        from access.desk import once as guard

        with clock(monkeypatch, days=-guard.FORM_DAYS, seconds=-60):
            old = form_token(issuer.get(FOR_BUYER))
        refused = hand_off(issuer, series, once=old)
        assert refused.status_code == 200 and not AccessPin.objects.exists()
        assert f"more than {guard.FORM_DAYS} days ago" in refused.text
        pins = reverse("admin:access_accesspin_changelist")
        assert f'<a href="{pins}?q=%40budi.dev">the list of PINs</a>' in refused.text
        assert "@budi.dev" in refused.text  # what was typed is kept
        fresh = form_token(refused)
        assert fresh != old
        assert PIN.search(hand_off(issuer, series, once=fresh).text)
        assert hand_off(issuer, series, once=fresh).status_code == 409
        assert AccessPin.objects.count() == 1

    def test_a_form_opened_too_long_ago_that_did_issue_names_its_pin(
        self, issuer, series, monkeypatch
    ):
        from access.desk import once as guard

        with clock(monkeypatch, days=-guard.FORM_DAYS + 1):
            old = form_token(issuer.get(FOR_BUYER))
        pin = PIN.search(hand_off(issuer, series, once=old).text)[1]
        with clock(monkeypatch, days=2):  # the token is too old now; its row is not
            again = hand_off(issuer, series, once=old)
        assert again.status_code == 409 and f"••••-••••-{pin[-4:]}" in again.text
        assert AccessPin.objects.count() == 1

    def test_the_rows_of_forms_older_than_a_token_lives_are_deleted_on_the_next_issue(
        self, issuer, series
    ):
        from django.utils import timezone

        from access.desk import once as guard

        pin = services.issue_pins(series=series)[0].record
        now = timezone.now()
        for name, age in [("old", guard.FORM_DAYS * 24 + 1), ("recent", guard.FORM_DAYS * 24 - 1)]:
            HandoffToken.objects.create(token=name, pin=pin, created_at=now - timedelta(hours=age))
        hand_off(issuer, series, once=form_token(issuer.get(FOR_BUYER)))
        assert set(HandoffToken.objects.values_list("token", flat=True)) >= {"recent"}
        assert not HandoffToken.objects.filter(token="old").exists()
        assert HandoffToken.objects.count() == 2


class TestReplacingALostPin:
    def replace_url(self, pin):
        return reverse("admin:access_accesspin_replace", args=[pin.pk])

    def test_asks_first_then_revokes_and_hands_off_a_new_pin_for_the_same_buyer(
        self, issuer, series
    ):
        old = services.issue_pins(series=series, buyer="@budi.dev", access_days=30)[0].record
        confirm = issuer.get(self.replace_url(old))
        assert confirm.status_code == 200 and "@budi.dev" in confirm.text
        assert AccessPin.objects.get(pk=old.pk).revoked_at is None
        response = issuer.post(self.replace_url(old))
        new_pin = PIN.search(response.text)[1]
        old.refresh_from_db()
        new = AccessPin.objects.exclude(pk=old.pk).get()
        assert old.revoked_at is not None and new.hint in old.revoked_reason
        assert (new.buyer, new.series, new.access_days) == ("@budi.dev", series, 30)
        assert new_pin.endswith(new.hint)
        assert services.redeem(user=make_user(), typed_pin=new_pin).ok

    def test_replacing_a_pin_that_was_used_warns_that_it_lets_one_more_reader_in(
        self, issuer, series, reader
    ):
        old = services.issue_pins(series=series, buyer="@budi.dev")[0]
        assert "no longer usable" not in issuer.get(self.replace_url(old.record)).text
        services.redeem(user=reader, typed_pin=old.pin)
        page = issuer.get(self.replace_url(old.record)).text
        assert "no longer usable (Used up)" in page and "one more reader" in page

    def test_what_the_old_pin_unlocked_stays_unlocked(self, issuer, series, reader):
        old = services.issue_pins(series=series, buyer="@budi.dev", max_uses=2)[0]
        services.redeem(user=reader, typed_pin=old.pin)
        issuer.post(self.replace_url(old.record))
        assert Entitlement.objects.active_for(reader).exists()
        assert AccessPin.objects.exclude(pk=old.record.pk).get().max_uses == 1

    def test_keeps_the_lessons_of_a_narrowed_pin(self, issuer, series):
        two = make_lesson(series, number=2, access="premium")
        old = services.issue_pins(series=series, lessons=[two], buyer="x")[0].record
        issuer.post(self.replace_url(old))
        new = AccessPin.objects.exclude(pk=old.pk).get()
        assert not new.whole_series and list(new.lessons.all()) == [two]

    def test_a_pin_whose_lessons_were_deleted_is_not_widened(self, issuer, series):
        two = make_lesson(series, number=2, access="premium")
        old = services.issue_pins(series=series, lessons=[two])[0].record
        two.delete()
        response = issuer.post(self.replace_url(old))
        assert response.status_code == 409
        assert "nothing to replace" in response.text
        assert AccessPin.objects.count() == 1

    def test_the_pin_page_links_to_it(self, issuer, series):
        old = services.issue_pins(series=series)[0].record
        page = issuer.get(reverse("admin:access_accesspin_change", args=[old.pk])).text
        assert self.replace_url(old) in page

    def test_authors_cannot_replace(self, series):
        old = services.issue_pins(series=series)[0].record
        assert staff_in("Authors").post(self.replace_url(old)).status_code == 403
        assert AccessPin.objects.count() == 1
