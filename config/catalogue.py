"""The interface's translation catalogue (locale/id): update it from the source and compile it.

    python -m config.catalogue        # what `make messages` runs; needs GNU gettext

English is the source language. The compiled `django.mo` is committed beside `django.po`, so
a fresh machine needs no gettext to run the site; tests/config/test_i18n.py fails when the two
disagree or when the source has a string the catalogue lacks.
"""

import subprocess
import sys
from pathlib import Path

from django.utils.translation import gettext_noop, ngettext

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "id"
PO = ROOT / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po"
MAKEMESSAGES = [
    "makemessages", "--locale", LANGUAGE, "--no-location", "--no-obsolete",
    "--ignore", ".venv/*", "--ignore", "staticfiles/*", "--ignore", "static/*",
    "--ignore", "tests/*", "--ignore", "content/*", "--ignore", "docs/*", "--ignore", "bench/*",
]  # fmt: skip


def django_gaps() -> tuple[str, ...]:
    """Strings Django's admin shows that its own Indonesian catalogue lacks (it trails the
    English one), marked here so that `make messages` keeps them in locale/id, which
    LOCALE_PATHS puts before Django's. The admin's script strings it lacks (the calendar, the
    time zone note) are in locale/id/LC_MESSAGES/djangojs.po, kept by hand: no script of ours
    is translated."""
    return (
        gettext_noop("- Select an option -"),
        gettext_noop("Filter by %(field_name)s"),
        ngettext("…and %(count)d more object.", "…and %(count)d more objects.", 2),
    )


def manage(root: Path, *args: str) -> None:
    subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=root,
        check=True,
        env={"ENV_FILE": "/nonexistent", "DEBUG": "1", "PATH": "/usr/bin:/bin"},
    )


def update(root: Path = ROOT) -> None:
    manage(root, *MAKEMESSAGES)
    manage(root, "compilemessages", "--locale", LANGUAGE, "--ignore", ".venv/*")


if __name__ == "__main__":
    update()
