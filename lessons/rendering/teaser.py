"""The public part of a premium lesson's source.

`split_teaser()` finds it: everything before the first `<!-- more -->`, or else the leading
blocks up to a word budget, never cutting inside a list, table, block quote or code block, and
never the whole body. `teaser_warning()` tells the author when a cut by the budget looks wrong.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext

from lessons.rendering.source import FENCE_OPEN, HEADING, fences, normalise_newlines
from lessons.rendering.text import count_words

# The marker, wherever it stands (in a quote, with odd spacing, inside a code block): the
# teaser always ends before its first occurrence. Failing closed beats a clever parse.
MORE_MARKER = re.compile(r"<!--\s*more\b[^>]*-->", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^[ \t]{0,3}([-*+]|\d{1,9}[.)])[ \t]+")
# A teaser is also capped in characters, whatever the words.
CHARS_PER_WORD = 8


@dataclass
class _Block:
    lines: list[str]
    start: int  # index of its first line in the source
    open_fence: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def first(self) -> str:
        return self.lines[0]

    @property
    def end(self) -> int:
        """Index of the line after its last one."""
        return self.start + len(self.lines)

    @property
    def is_heading(self) -> bool:
        return bool(HEADING.match(self.first))


def _blocks(source: str) -> list[_Block]:
    """Split source into top-level blocks: runs of lines between blank lines, with fenced code
    kept whole, and with indented continuations and the items of a loose list joined to the
    block they belong to."""
    lines = source.split("\n")
    fenced = {}
    for start, end, _ in fences(lines):
        fenced[start] = end
    blocks: list[_Block] = []
    current: list[str] = []
    current_start = 0

    def close():
        nonlocal current
        if not current:
            return
        prev = blocks[-1] if blocks else None
        continues = prev is not None and (
            current[0][:1] in (" ", "\t")
            or (_LIST_ITEM.match(prev.first) and _LIST_ITEM.match(current[0]))
        )
        if continues:
            prev.lines.extend(lines[prev.end : current_start] + current)
        else:
            blocks.append(_Block(current, current_start))
        current = []

    i = 0
    while i < len(lines):
        line = lines[i]
        if not current:
            current_start = i
        if i in fenced:
            current.extend(lines[i : fenced[i] + 1])
            i = fenced[i] + 1
            continue
        if FENCE_OPEN.match(line):
            # A fence that never closes: Markdown shows it as text; keep it apart and mark it.
            close()
            blocks.append(_Block(lines[i:], i, open_fence=True))
            break
        if line.strip():
            current.append(line)
        else:
            close()
        i += 1
    close()
    return blocks


def _join(blocks: list[_Block]) -> str:
    return "\n\n".join(block.text.strip("\n") for block in blocks) + ("\n" if blocks else "")


@dataclass(frozen=True)
class Teaser:
    """The public part of a lesson's source, and where it stops."""

    source: str  # its Markdown
    end_line: int  # the lines of the (normalised) full source before this one are the teaser
    marker: bool  # cut by `<!-- more -->` rather than by the word budget

    @property
    def words(self) -> int:
        return count_words(self.source)


def teaser(source: str, word_budget: int) -> Teaser:
    """The public part of a lesson: see `split_teaser()`."""
    source = normalise_newlines(source)
    marker = MORE_MARKER.search(source)
    if marker:
        head = source[: source.rfind("\n", 0, marker.start()) + 1]
        taken = [block for block in _blocks(head) if not block.open_fence]
    else:
        taken = []
        words = chars = 0
        has_text = False
        for block in _blocks(source)[:-1]:
            block_words, block_chars = count_words(block.text), len(block.text)
            fits = (
                words + block_words <= word_budget
                and chars + block_chars <= word_budget * CHARS_PER_WORD
            )
            too_big = (
                block_words > 2 * word_budget or block_chars > 2 * word_budget * CHARS_PER_WORD
            )
            if block.open_fence or (not fits and (has_text or too_big)):
                break
            taken.append(block)
            words += block_words
            chars += block_chars
            has_text = has_text or not block.is_heading
    while taken and taken[-1].is_heading:
        taken.pop()
    return Teaser(_join(taken), taken[-1].end if taken else 0, bool(marker))


def split_teaser(source: str, word_budget: int) -> str:
    """The Markdown source of the public part of a lesson.

    With a `<!-- more -->` marker anywhere: the whole lines before its first occurrence.
    Otherwise the leading blocks while they fit in `word_budget` words and eight characters
    a word (the first text block is kept when it is longer, up to twice the budget), never
    the last block, and never ending on a heading or inside an unclosed code fence.
    """
    return teaser(source, word_budget).source


def teaser_warning(source: str, word_budget: int) -> str:
    """For a premium lesson: why its public part, cut by the word budget because it has no
    `<!-- more -->`, may not be what the author wants ("" when it looks reasonable)."""
    cut = teaser(source, word_budget)
    if cut.marker:
        return ""
    words, total = cut.words, count_words(normalise_newlines(source))
    if words == 0:
        return gettext(
            "This premium lesson has no <!-- more --> line and no teaser can be cut from it: "
            "readers without access see only its title. Put <!-- more --> on its own line "
            "where the public part should end."
        )
    if words < word_budget / 3:
        return gettext(
            "This premium lesson has no <!-- more --> line, and its automatic teaser is very "
            "short (%(words)s words). Put <!-- more --> on its own line where the public part "
            "should end."
        ) % {"words": words}
    if words > word_budget * 1.5 or words * 2 > total:
        return gettext(
            "This premium lesson has no <!-- more --> line, and its automatic teaser is very "
            "long (%(words)s of its %(total)s words are public). Put <!-- more --> on its own "
            "line where the public part should end."
        ) % {"words": words, "total": total}
    return ""
