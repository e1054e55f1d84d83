"""`make screenshots`: the main pages, as a newcomer, a buyer and the seller see them, written
into docs/screenshots/ (phone and desktop, light and dark, Indonesian and English).

The production server (gunicorn, as `make serve` runs it, tests/e2e/servers.py) on a free
loopback port, over a fresh SQLite database holding the demo series, a buyer with access and a
seller who has handed off a few PINs; Debian's Chromium (Playwright) takes the pictures.

    .venv/bin/python -m tests.e2e.screenshots [FOLDER]

SHOTS names each picture with the templates it shows; beside the pictures, MADE_FROM records a
digest of each of those templates as they were when the picture was taken, and
tests/test_screenshots.py fails when a picture the README shows was made from a template that
has changed since."""

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.servers import ROOT, Gunicorn, manage, server_env

CHROMIUM = "/usr/bin/chromium"
FOLDER = ROOT / "docs" / "screenshots"
MADE_FROM = "made-from.json"
PASSWORD = "a-long-pass-phrase-9"
READER, SELLER = "reader@example.com", "seller@example.com"
LESSON_1 = "/series/became-ai-engineer/what-is-an-ai-engineer/"
LESSON_2 = "/series/became-ai-engineer/models-tokens-and-context-windows/"


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    templates: tuple[str, ...]
    who: str = "visitor"  # or "reader" (with access) or "seller"
    width: int = 390
    scheme: str = "light"
    at: str = ""  # scrolled to this element first
    locale: str = "en-US"  # the browser's (the admin's language follows it)


LESSON = ("lessons/lesson.html", "base.html")
SHOTS = [
    Shot("home-en-1280", "/", ("lessons/home.html", "base.html"), width=1280),
    Shot("home-id-390-dark", "/id/", ("lessons/home.html", "base.html"), scheme="dark"),
    Shot("series-id-390", "/id/series/became-ai-engineer/", ("lessons/series.html",)),
    Shot("lesson-1-en-1280", LESSON_1, LESSON, width=1280),
    Shot("lesson-1-diagram-id-390-dark", "/id" + LESSON_1, LESSON, scheme="dark",
         at="figure.diagram"),
    Shot("lesson-1-code-en-390", LESSON_1, LESSON, at=".lesson__body .highlight"),
    Shot("paywall-id-390", "/id" + LESSON_2, (*LESSON, "access/_paywall.html"), at=".paywall"),
    Shot("paywall-en-1280-dark", LESSON_2, (*LESSON, "access/_paywall.html"), width=1280,
         scheme="dark", at=".paywall"),
    Shot("redeem-id-390", "/id/access/redeem/",
         ("access/redeem.html", "access/_redeem_form.html")),
    Shot("signup-id-390", "/id/accounts/signup/", ("account/signup.html",)),
    Shot("lesson-2-unlocked-id-390", "/id" + LESSON_2, LESSON, who="reader"),
    Shot("my-access-en-390", "/access/mine/", ("access/my_access.html",), who="reader"),
    Shot("handoff-id-390", "handoff", ("admin/access/accesspin/handoff.html",), who="seller",
         locale="id-ID"),
    Shot("handoff-en-1280-dark", "handoff", ("admin/access/accesspin/handoff.html",),
         who="seller", width=1280, scheme="dark"),
    Shot("dashboard-id-1280", "/admin/access/accesspin/dashboard/",
         ("admin/access/dashboard.html",), who="seller", width=1280, locale="id-ID"),
    Shot("dashboard-id-390-dark", "/admin/access/accesspin/dashboard/",
         ("admin/access/dashboard.html",), who="seller", scheme="dark", locale="id-ID"),
]  # fmt: skip

# The demo series, a buyer who redeemed a PIN, a seller (the owner) who sold a few more.
SITE = f"""
from allauth.account.models import EmailAddress
from access import services
from accounts.models import User
from lessons.models import Series
series = Series.objects.get(slug="became-ai-engineer")
for email, staff in (({READER!r}, False), ({SELLER!r}, True)):
    user = User.objects.create_user(email, {PASSWORD!r}, is_staff=staff, is_superuser=staff)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
seller = User.objects.get(email={SELLER!r})
issued = [services.issue_pins(series=series, buyer=buyer, issued_by=seller)[0]
          for buyer in ("@budi.dev", "@siti.rahma", "@andi_p", "@dewi.codes")]
services.redeem(user=User.objects.get(email={READER!r}), typed_pin=issued[0].pin, ip="127.0.0.1")
services.redeem(user=User.objects.get(email={READER!r}), typed_pin="WRNG-PIN0-0000", ip="10.0.0.2")
services.issue_pins(series=series, count=5, batch="promo-ramadan", issued_by=seller)
"""


def site(folder: Path) -> dict:
    """The environment of a production server over a fresh database holding SITE."""
    static, media = folder / "static", folder / "media"
    env = server_env(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}", STATIC_ROOT=str(static),
        MEDIA_ROOT=str(media), SERVE_MEDIA="1", HOME=str(folder),
    )  # fmt: skip
    manage("migrate", "--no-input", "-v0", env=env)
    manage("createcachetable", env=env)
    manage("collectstatic", "--no-input", "-v0", env=env)
    manage("import_series", str(ROOT / "content" / "became-ai-engineer"), env=env)
    manage("shell", "-c", SITE, env=env)
    return env


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_load_state()


def take(browser, base: str, shot: Shot, out: Path) -> None:
    height = 844 if shot.width < 800 else 860
    context = browser.new_context(
        viewport={"width": shot.width, "height": height}, color_scheme=shot.scheme,
        locale=shot.locale, device_scale_factor=1,
    )  # fmt: skip
    page = context.new_page()
    if shot.who != "visitor":
        log_in(page, base, READER if shot.who == "reader" else SELLER)
    if shot.path == "handoff":  # the page the seller copies a new buyer's PIN from
        page.goto(f"{base}/admin/access/accesspin/for-buyer/")
        page.fill("input[name=buyer]", "@sari.codes")
        page.click("input[type=submit]")
        page.wait_for_selector("#handoff-pin")
    else:
        page.goto(base + shot.path)
    page.wait_for_load_state("networkidle")
    if shot.at:
        page.locator(shot.at).first.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.evaluate("window.scrollBy(0, -72)")  # with a line of what comes before
    page.screenshot(path=str(out / f"{shot.name}.png"))
    context.close()


def digest(template: str) -> str:
    """What a picture records of a template it shows: a digest of the template's text."""
    return hashlib.sha256((ROOT / "templates" / template).read_bytes()).hexdigest()[:16]


def record(folder: Path, shots) -> None:
    """Write, beside the pictures, the digest of every template each one was made from."""
    path = folder / MADE_FROM
    made = json.loads(path.read_text()) if path.exists() else {}
    made.update({shot.name: {t: digest(t) for t in shot.templates} for shot in shots})
    path.write_text(json.dumps(dict(sorted(made.items())), indent=1, sort_keys=True) + "\n")


def main(folder: Path = FOLDER) -> None:
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        env = site(Path(scratch))
        with Gunicorn(env, workers=2) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for shot in SHOTS:
                take(browser, server.url, shot, folder)
                print(f"wrote {folder / shot.name}.png")
            browser.close()
    record(folder, SHOTS)


if __name__ == "__main__":
    os.chdir(ROOT)
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
