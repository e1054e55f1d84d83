"""Django's admin in Indonesian: Django's own Indonesian catalogues trail its English ones, so
the strings they lack are in the site's (locale/id: django.po through `make messages`,
djangojs.po by hand for the admin's scripts), and a seller never meets English there."""

import gettext
import os
import shutil
import subprocess
from pathlib import Path

import django
import polib
import pytest
from django.test import Client

from config import catalogue
from tests.factories import make_user

pytestmark = pytest.mark.django_db

DJANGO = Path(django.__file__).parent
JS_PO = catalogue.ROOT / "locale" / catalogue.LANGUAGE / "LC_MESSAGES" / "djangojs.po"
# What Django's Indonesian lacks that a seller never sees: messages of pages this site does
# not use, a separator, a form field it has no use for.
NEVER_SHOWN = {
    'The app "%s" could not be found.',
    ", ",
    "Logout",
    "“%(value)s” is not a valid binary value.",
    "No %s matches the given query.",
}


def lacking(domain: str, *packages: str) -> set[str]:
    """Django's English strings of `domain` that its Indonesian leaves untranslated."""
    missing = set()
    for package in packages:
        folder = DJANGO / package / "locale"
        english = polib.pofile(str(folder / "en" / "LC_MESSAGES" / f"{domain}.po"))
        indonesian = polib.pofile(str(folder / "id" / "LC_MESSAGES" / f"{domain}.po"))
        done = {entry.msgid for entry in indonesian.translated_entries()}
        missing |= {entry.msgid for entry in english if entry.msgid not in done}
    return missing - NEVER_SHOWN


def test_the_site_catalogue_has_what_djangos_indonesian_lacks():
    ours = {e.msgid for e in polib.pofile(str(catalogue.PO)).translated_entries()}
    assert lacking("django", "contrib/admin", "conf") - ours == set()


def test_the_script_catalogue_has_what_djangos_indonesian_lacks():
    ours = polib.pofile(str(JS_PO))
    assert {e.msgid for e in ours.translated_entries()} == lacking("djangojs", "contrib/admin")
    assert ours.percent_translated() == 100 and not ours.fuzzy_entries()


def test_the_compiled_script_catalogue_matches_its_source():
    with JS_PO.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in polib.pofile(str(JS_PO)):
        if entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 7) == entry.msgstr_plural[0]
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr


def test_msgfmt_accepts_the_script_catalogue():
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        if os.environ.get("REQUIRE_GETTEXT") == "1":
            raise RuntimeError("REQUIRE_GETTEXT=1 but msgfmt is missing")
        pytest.skip("needs GNU gettext (apt-get install gettext)")
    result = subprocess.run(
        [msgfmt, "--check", "-o", os.devnull, str(JS_PO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_admins_scripts_get_the_time_zone_note_in_indonesian():
    staff = Client(headers={"accept-language": "id"})
    staff.force_login(make_user(is_staff=True))
    catalog = staff.get("/admin/jsi18n/").text
    assert "Catatan: isi waktu menurut zona waktu %(timezone)s" in catalog
    assert "Hari ini (%(date)s)" in catalog
