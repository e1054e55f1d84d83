"""Sections of series.yaml that other apps own.

lessons/ reads the keys of a series' teaching content (title, slug, description, language,
author, published, position). An app that keeps more about a series (access/, say) registers
a section, in its AppConfig.ready(), naming its keys
and reading, checking and saving their values with the import: in the same run, the same
report of problems (by file and line) and the same transaction, with nothing saved while
there is a problem. lessons/ never imports the apps that register; they import this.
"""

from collections.abc import Callable
from typing import Protocol

from lessons.importer.problems import Source


class SeriesSection(Protocol):
    #: The keys of series.yaml this section reads (no other section's, nor lessons' own).
    keys: frozenset[str]

    def read(self, data: dict, source: Source) -> dict:
        """This section's values from series.yaml's `data`, each problem noted in `source`
        (`source.problem(message, key=key)` marks the key as wrong)."""
        ...

    def prepare(self, series, values: dict, source: Source) -> Callable[[], None] | None:
        """Check `values` for `series` (not saved yet when it is new) as saving would, each
        problem noted in `source`; a function that saves them, called once the series is
        saved and nothing is wrong, or None when they change nothing."""
        ...


_sections: list[SeriesSection] = []


def register(section: SeriesSection) -> None:
    """Add a section to every import from now on (an app's AppConfig.ready() calls this;
    a second section of the same class is not added again)."""
    if any(type(other) is type(section) for other in _sections):
        return
    taken = {key for other in _sections for key in other.keys}
    if overlap := taken & section.keys:
        raise ValueError(f"series.yaml keys already read by another section: {sorted(overlap)}")
    _sections.append(section)


def registered() -> list[SeriesSection]:
    return list(_sections)
