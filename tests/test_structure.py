"""The shape of the house: dependencies point one way: payments → access → lessons →
caching → config."""

import ast
import io
import re
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("lessons", ("access", "accounts", "payments")),
        ("access", ("accounts", "payments")),
        ("accounts", ("payments",)),
        ("config", ("payments", "caching")),
        ("caching", ("lessons", "access", "accounts", "payments")),
    ],
)
def test_apps_import_only_downstream(package, forbidden):
    """lessons/ knows nothing of PINs or accounts: the gate reaches its views as
    request.access and its templates through access/'s template tags. Nothing imports
    payments/: it issues PINs through access/'s services, and shows its pay button and its
    part of the dashboard through access/'s registries (test_templates_name_only_downstream)."""
    offending = {
        path: sorted(n for n in names if n.split(".")[0] in forbidden)
        for path, names in imported_modules(package).items()
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_caching_stands_beside_config_on_django_alone():
    """caching/ owns every store, the generation and the keys; it knows no app, so the apps
    (lessons, access, payments) may use it and it can never reach their data by import: it
    imports the standard library, Django (and redis, the client of Django's Redis cache) and
    config/ only."""
    allowed = {"django", "redis", "config", "caching"} | set(sys.stdlib_module_names)
    found = {
        path: sorted(n for n in names if n.split(".")[0] not in allowed)
        for path, names in imported_modules("caching").items()
    }
    assert {path: names for path, names in found.items() if names} == {}


# Templates follow the same arrows: the templates of an app (templates/<app>/ and its admin
# pages' templates/admin/<app>/) name no template of an app its code may not import, load none
# of its tag libraries and reverse none of its URLs. One door, by design: lessons' pages load
# access's tag library (the paywall, the call to action, the PIN form). What another app adds to
# access's pages comes through access's registries, filled in its AppConfig.ready():
# access.offer.actions (beside the contact buttons) and access.dashboard_extras (the dashboard).
TEMPLATE_NAMED = re.compile(r"""["'](?:admin/)?([a-z_]+)/[^"'\s]*\.(?:html|txt)["']""")
URL_NAMED = re.compile(r"""{%\s*url\s+["']([a-z_]+):""")
LOADED = re.compile(r"{%\s*load\s+(.+?)\s*%}")
LIBRARIES = {
    path.stem: path.parent.parent.name
    for path in ROOT.glob("*/templatetags/*.py")
    if path.stem != "__init__"
}


def template_dependencies(app: str, *, doors=()) -> dict[str, set[str]]:
    """For each template of `app`: the apps whose templates it names, whose tag libraries it
    loads (`doors`, libraries it may load, aside) or whose URLs it reverses."""
    found = {}
    for folder in (ROOT / "templates" / app, ROOT / "templates" / "admin" / app):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            text = path.read_text(encoding="utf-8")
            apps = {m[1] for m in TEMPLATE_NAMED.finditer(text)}
            apps |= {m[1] for m in URL_NAMED.finditer(text)}
            for load in LOADED.finditer(text):
                words = load[1].split()
                words = words[words.index("from") + 1 :] if "from" in words else words
                apps |= {LIBRARIES[w] for w in words if w in LIBRARIES and w not in doors}
            found[str(path.relative_to(ROOT))] = apps
    return found


@pytest.mark.parametrize(
    ("app", "forbidden", "doors"),
    [
        ("lessons", {"access", "accounts", "payments"}, {"access"}),
        ("access", {"accounts", "payments"}, set()),
    ],
)
def test_templates_name_only_downstream(app, forbidden, doors):
    found = template_dependencies(app, doors=doors)
    assert found  # the folders are where this test looks
    assert {path: apps & forbidden for path, apps in found.items() if apps & forbidden} == {}


@pytest.mark.parametrize(
    "line",
    [
        '{% include "payments/_pay_button.html" %}',
        "{% include 'admin/payments/order/refund.html' %}",
        "{% load i18n payments %}",
        "{% load pay_button from payments %}",
        "{% url 'payments:checkout' series.slug %}",
    ],
)
def test_a_template_naming_payments_is_found(tmp_path, monkeypatch, line):
    (tmp_path / "templates" / "access").mkdir(parents=True)
    (tmp_path / "templates" / "access" / "x.html").write_text(f"<p>{line}</p>")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert template_dependencies("access") == {"templates/access/x.html": {"payments"}}


# What lessons/ must not say, in any identifier, string or docstring of its code (its
# migrations, which record the history of its tables, excepted): selling belongs to access/
# (the offer, the paywall, the PIN), payments to payments/. Words, not substrings: an
# identifier is split at "_" and at capitals, a string into words ("pinned" and "spinner" are
# other words). "premium" and "free" stay: they say who may read a lesson, which is teaching
# content's own business (Lesson.access); "access" too, the field and request.access.
# Comments are left alone, so that lessons/ can say where access/'s parts reach its pages.
SELLING_WORDS = frozenset(
    {
        # the PIN, and having one
        "pin", "pins", "redeem", "redeemed", "redemption", "entitlement", "entitlements",
        # the offer and its texts
        "offer", "offers", "offered", "cta", "paywall", "paywalls",
        # the price
        "price", "prices", "priced", "pricing", "currency", "currencies",
        # reaching the seller
        "instagram", "whatsapp",
        # buying and selling
        "sell", "sells", "selling", "seller", "sellers", "sale", "sales",
        "buy", "buys", "buyer", "buyers", "bought", "purchase", "purchases",
        "payment", "payments", "checkout",
    }
)  # fmt: skip
SELLING_PHRASES = ("call to action",)


def _words(token: tokenize.TokenInfo) -> list[str]:
    if token.type == tokenize.NAME:
        return [part.lower() for part in re.split(r"_+|(?<=[a-z0-9])(?=[A-Z])", token.string)]
    return [word.lower() for word in re.findall(r"[A-Za-z]+", token.string)]


def selling_vocabulary(source: str) -> list[tuple[int, str]]:
    """(line, word) for each selling word or phrase in the identifiers and strings of
    Python `source`."""
    found = []
    strings = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.NAME and token.type not in strings:
            continue
        words = _words(token)
        found += [(token.start[0], word) for word in words if word in SELLING_WORDS]
        found += [(token.start[0], p) for p in SELLING_PHRASES if p in " ".join(words)]
    return found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("PIN_PLACEHOLDER = '{pin}'", [(1, "pin"), (1, "pin")]),
        ("def paywallSeen(): pass", [(1, "paywall")]),
        ("x = _('The call to action')", [(1, "call to action")]),
        ('"""Shown to buyers."""', [(1, "buyers")]),
        ("spinner = 'a pinned version'  # the price, in a comment", []),
        ("premium = Lesson.Access.PREMIUM", []),
    ],
)
def test_selling_vocabulary_is_found_in_names_and_strings_not_comments(source, found):
    assert selling_vocabulary(source) == found


def test_lessons_knows_nothing_of_selling():
    """lessons/ keeps teaching content only: no PIN, price, offer, paywall or contact in its
    code (access/ shows those on lessons' pages through its own template tags, and adds its
    keys to series.yaml and its texts to render_lessons through lessons' registries)."""
    found = {
        str(path.relative_to(ROOT)): words
        for path in sorted((ROOT / "lessons").rglob("*.py"))
        if "migrations" not in path.parts
        and (words := selling_vocabulary(path.read_text(encoding="utf-8")))
    }
    assert found == {}
