"""Every reader and account page is valid HTML: the W3C Nu validator finds no error in any of
them, in either language.

The validator is a Java program (vnu.jar); `.ci/run` fetches a pinned release and names it in
VNU_JAR. Without it (or without Java) the test is skipped, unless REQUIRE_VALID_HTML=1.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from access import services
from config.languages import address
from lessons.models import Lesson
from tests.factories import make_user

DEMO = Path(__file__).resolve().parents[2] / "content" / "became-ai-engineer"


def validator() -> list[str]:
    jar, java = os.environ.get("VNU_JAR", ""), shutil.which("java")
    if jar and Path(jar).is_file() and java:
        return [java, "-Xss2m", "-jar", jar]
    reason = "the W3C Nu validator needs Java and VNU_JAR (the path of vnu.jar)"
    if os.environ.get("REQUIRE_VALID_HTML") == "1":
        pytest.fail(f"REQUIRE_VALID_HTML=1 but {reason}")
    pytest.skip(reason)


def demo_pages():
    """(name, client, url) for every page a reader or a visitor can reach."""
    call_command("import_series", str(DEMO), stdout=open(os.devnull, "w"))  # noqa: SIM115
    lessons = {lesson.number: lesson for lesson in Lesson.objects.select_related("series")}
    series = lessons[1].series
    entitled, locked = make_user(), make_user()
    services.grant(user=entitled, series=series)
    anonymous = {
        "home": "/",
        "series": series.get_absolute_url(),
        "free lesson": lessons[1].get_absolute_url(),
        "premium lesson's teaser": lessons[2].get_absolute_url(),
        "last lesson's teaser": lessons[7].get_absolute_url(),
        "search": "/search/?q=engineer",
        "search with nothing found": "/search/?q=zzzz",
        "search without words": "/search/?q=%22%22",
        "redeem": "/access/redeem/",
        "log in": "/accounts/login/",
        "sign up": "/accounts/signup/",
        "log in by code": "/accounts/login/code/",
        "password reset": "/accounts/password/reset/",
        "missing page": "/nowhere/",
    }
    with_access = {
        "premium lesson in full": lessons[2].get_absolute_url(),
        "last lesson in full": lessons[7].get_absolute_url(),
        "series with progress": series.get_absolute_url(),
        "home for a reader": "/",
        "search for a reader with access": "/search/?q=engineer",
        "my access": "/access/mine/",
        "email addresses": "/accounts/email/",
        "password change": "/accounts/password/change/",
        "log out": "/accounts/logout/",
    }
    without_access = {"premium lesson, logged in": lessons[2].get_absolute_url()}
    for language in ("en", "id"):
        reader, other = Client(), Client()
        reader.force_login(entitled)
        other.force_login(locked)
        for client, urls in ((Client(), anonymous), (reader, with_access)):
            for name, url in urls.items():
                yield f"{name} ({language})", client, address(url, language)
        for name, url in without_access.items():
            yield f"{name} ({language})", other, address(url, language)


def posted_pages():
    """(name, response) for pages a reader reaches by sending a form: the code page after
    signing up, a refused PIN with the seller's buttons, and the page that asks to wait."""
    for language in ("en", "id"):
        email = f"posted-{language}@example.com"
        signup = Client()
        signup.post(address("/accounts/signup/", language), {"email": email})
        confirm = signup.get(address("/accounts/login/code/confirm/", language))
        yield f"sign-up: the code ({language})", confirm
        again = Client().post(address("/accounts/signup/", language), {"email": email})
        yield f"sign-up again at once ({language})", again
        refused = Client().post(address("/access/redeem/", language), {"pin": "ZZZZ-ZZZZ-ZZZZ"})
        yield f"a PIN refused ({language})", refused


# A positive control: the validator must find this document's error, or it checked nothing.
INVALID = b"<!DOCTYPE html><html lang='en'><title>x</title><p><span><ul><li>x</ul></span></p>"


@pytest.mark.django_db
def test_every_reader_and_account_page_is_valid_html(tmp_path):
    command = validator()
    (tmp_path / "control.html").write_bytes(INVALID)
    names = {"control.html": "control"}
    for number, (name, client, url) in enumerate(demo_pages()):
        response = client.get(url)
        assert response.status_code in (200, 404), (name, response.status_code)
        path = tmp_path / f"{number:02}.html"
        path.write_bytes(response.content)
        names[path.name] = name
    for number, (name, response) in enumerate(posted_pages(), start=len(names)):
        assert response.status_code in (200, 400, 429), (name, response.status_code)
        path = tmp_path / f"{number:02}.html"
        path.write_bytes(response.content)
        names[path.name] = name
    result = subprocess.run(
        [*command, "--errors-only", "--format", "json", *map(str, sorted(tmp_path.glob("*.html")))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = {}
    for message in messages:
        url = message.get("url", "")
        name = names.get(url.rsplit("/", 1)[-1], url)
        errors.setdefault(name, []).append(f"line {message.get('lastLine')}: {message['message']}")
    assert errors.pop("control", None), "the validator found no error in the control"
    assert len(names) == 55  # the control and 27 pages in each language
    assert errors == {}
