"""The shapes of text that would take the pipeline too long or too deep (nesting, brackets,
emphasis runs, huge tables...), refused with a message for the author that names the line.
`check_source()` is linear in the length of the source; the time any text may take is bounded
by lessons.rendering.bounded."""

import re

from django.utils.translation import gettext

from lessons.rendering.source import FENCE_OPEN, HEADING, fences, normalise_newlines

# Limits. Python-Markdown recurses once per level of nesting and rescans the rest of a
# paragraph for every bracket left open, so such text can take minutes or end in a
# RecursionError; these limits stay far below where that starts, and far above real lessons.
MAX_NESTING = 50  # levels of lists and block quotes opened at the start of a line
MAX_OPEN_BRACKETS = 100  # '[' or '(' open at once in a paragraph, nested or never closed
MAX_EMPHASIS_RUN = 100  # '*' or '_' in a row
MAX_UNCLOSED_FENCES = 100
MAX_TABLE_ROWS = 2000
MAX_FOOTNOTES = 1000
MAX_HEADINGS = 1000

_NESTING_PART = re.compile(r"(?P<space>[ \t]+)|>|(?:[-*+]|\d{1,9}[.)])(?=[ \t])")
_BRACKET = re.compile(r"\\.|[\[\]()]")
_EMPHASIS_RUN = re.compile(rf"\*{{{MAX_EMPHASIS_RUN + 1},}}|_{{{MAX_EMPHASIS_RUN + 1},}}")
_FOOTNOTE = re.compile(r"^[ ]{0,3}\[\^[^\]\n]+\]:")


class RenderError(ValueError):
    """The text cannot be rendered within the limits; `problems` say why, for its author."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


def _nesting(line: str) -> int:
    """Levels opened at the start of a line: each > mark and list marker, and each four
    columns of indentation."""
    levels = position = 0
    while part := _NESTING_PART.match(line, position):
        levels += len(part["space"].expandtabs(4)) // 4 if part["space"] else 1
        position = part.end()
    return levels


class _Found:
    """Where a limit was first passed, the worst value seen, and how many times."""

    def __init__(self):
        self.line, self.worst, self.count = 0, 0, 0

    def add(self, line: int, value: int) -> None:
        self.line = self.line or line
        self.worst = max(self.worst, value)
        self.count += 1

    def more(self) -> str:
        if self.count <= 1:
            return ""
        return gettext(" (and %(count)s more)") % {"count": self.count - 1}


class _OpenBrackets:
    """Brackets open at once in the current paragraph, square and round counted apart."""

    def __init__(self):
        self.square = self.round = 0

    def most_after(self, line: str) -> int:
        most = 0
        for bracket in _BRACKET.finditer(line):
            char = bracket[0]
            if char == "[":
                self.square += 1
            elif char == "(":
                self.round += 1
            elif char == "]":
                self.square = max(0, self.square - 1)
            elif char == ")":
                self.round = max(0, self.round - 1)
            most = max(most, self.square, self.round)
        return most


def check_source(source: str) -> list[str]:
    """What in this Markdown source passes the limits above, as messages naming the line;
    empty when it can be rendered. Linear in the length of the source."""
    return _limit_messages(*_scan(normalise_newlines(source).split("\n")))


def _scan(lines: list[str]):
    in_code: set[int] = set()
    for start, end, _ in fences(lines):
        in_code.update(range(start, end + 1))
    nesting, brackets, emphasis, table = _Found(), _Found(), _Found(), _Found()
    unclosed_fences = footnotes = headings = table_rows = 0
    paragraph, paragraph_flagged = _OpenBrackets(), False
    for number, line in enumerate(lines, start=1):
        if number - 1 in in_code:
            continue
        if not line.strip():
            paragraph, paragraph_flagged, table_rows = _OpenBrackets(), False, 0
            continue
        unclosed_fences += bool(FENCE_OPEN.match(line))
        footnotes += bool(_FOOTNOTE.match(line))
        headings += bool(HEADING.match(line))
        if (levels := _nesting(line)) > MAX_NESTING:
            nesting.add(number, levels)
        if run := _EMPHASIS_RUN.search(line):
            emphasis.add(number, len(run[0]))
        if paragraph.most_after(line) > MAX_OPEN_BRACKETS and not paragraph_flagged:
            brackets.add(number, 0)
            paragraph_flagged = True
        table_rows = table_rows + 1 if "|" in line else 0
        if table_rows == MAX_TABLE_ROWS + 1:
            table.add(number - MAX_TABLE_ROWS, table_rows)
    return nesting, brackets, emphasis, table, unclosed_fences, footnotes, headings


def _limit_messages(
    nesting, brackets, emphasis, table, unclosed_fences, footnotes, headings
) -> list[str]:
    problems = []
    if nesting.count:
        problems.append(
            gettext(
                "Line %(line)s%(more)s is nested %(levels)s levels deep in lists or block "
                "quotes; at most %(max)s levels can be shown."
            )
            % {
                "line": nesting.line,
                "more": nesting.more(),
                "levels": nesting.worst,
                "max": MAX_NESTING,
            }
        )
    if brackets.count:
        problems.append(
            gettext(
                "Line %(line)s%(more)s leaves more than %(max)s brackets [ or ( open at once, "
                "nested or never closed. Close them, or write \\[ and \\( for brackets meant "
                "as text."
            )
            % {"line": brackets.line, "more": brackets.more(), "max": MAX_OPEN_BRACKETS}
        )
    if emphasis.count:
        problems.append(
            gettext(
                "Line %(line)s%(more)s has %(count)s * or _ in a row; at most %(max)s can stand "
                "together. Write \\* and \\_ for ones meant as text."
            )
            % {
                "line": emphasis.line,
                "more": emphasis.more(),
                "count": emphasis.worst,
                "max": MAX_EMPHASIS_RUN,
            }
        )
    if unclosed_fences > MAX_UNCLOSED_FENCES:
        problems.append(
            gettext(
                "%(count)s code fences (``` or ~~~) are never closed; at most %(max)s can be. "
                "Close each code block with a line like its opening."
            )
            % {"count": unclosed_fences, "max": MAX_UNCLOSED_FENCES}
        )
    if table.count:
        problems.append(
            gettext(
                "The table at line %(line)s%(more)s has more than %(max)s rows; split it, or "
                "link to the data instead."
            )
            % {"line": table.line, "more": table.more(), "max": MAX_TABLE_ROWS}
        )
    if footnotes > MAX_FOOTNOTES:
        problems.append(
            gettext("The text has %(count)s footnotes; at most %(max)s can be.")
            % {"count": footnotes, "max": MAX_FOOTNOTES}
        )
    if headings > MAX_HEADINGS:
        problems.append(
            gettext("The text has %(count)s headings; at most %(max)s can be.")
            % {"count": headings, "max": MAX_HEADINGS}
        )
    return problems
