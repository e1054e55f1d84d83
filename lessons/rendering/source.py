"""Markdown source as the pipeline reads it: plain LF lines, and where its fenced code
blocks are (the limits, the diagrams and the teaser all skip them or keep them whole)."""

import re

# Python-Markdown's fenced code: a fence at the start of a line, an optional language or
# attribute list, closed by the same fence.
FENCE_OPEN = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w#.+-]*)[ \t]*(\{[^}\n]*\})?[ \t]*$"
)
HEADING = re.compile(r"^#{1,6}[ \t]")


def normalise_newlines(text: str) -> str:
    """Browsers send textareas with CRLF line endings; the pipeline reads plain LF."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def fences(lines: list[str]):
    """Yield (start, end, language) of each closed fenced code block, by line index."""
    i = 0
    # Fences that no later line closes: a later opener with the same fence is not closed
    # either, so each is searched for once (thousands of unclosed openers stay linear).
    unclosed: set[str] = set()
    while i < len(lines):
        opening = FENCE_OPEN.match(lines[i])
        if opening and opening["fence"] not in unclosed:
            fence = opening["fence"]
            for j in range(i + 1, len(lines)):
                if lines[j].rstrip() == fence:
                    yield i, j, opening["lang"].lower()
                    i = j
                    break
            else:
                unclosed.add(fence)
        i += 1


def code_lines(lines: list[str]) -> set[int]:
    """Indexes of the lines inside fenced code blocks (fences included)."""
    inside: set[int] = set()
    for start, end, _ in fences(lines):
        inside.update(range(start, end + 1))
    return inside
