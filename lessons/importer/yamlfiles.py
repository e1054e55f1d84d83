"""Reading the folder's text files safely: size, encoding, YAML without aliases or deep
nesting, and a lesson's front matter."""

from pathlib import Path

import yaml
from django.conf import settings

from lessons.importer.problems import Source

# Front matter and series.yaml are flat: keys with text, numbers, dates and flags. Deeper
# nesting, aliases and files far bigger than a lesson can hold are refused before they cost
# memory or time, and values are shown in messages cut short.
YAML_MAX_DEPTH = 10
FILE_SLACK_BYTES = 64 * 1024


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (an alias bomb expands a few lines into gigabytes)
    and with a nesting limit (the composer recurses, once per level)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed", event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > YAML_MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"values nested more than {YAML_MAX_DEPTH} levels deep are not allowed",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_text(path: Path, source: Source) -> str | None:
    """The file's text, or None (with the problem noted) when it is too big or not UTF-8."""
    limit = settings.LESSON_BODY_MAX_BYTES + FILE_SLACK_BYTES
    size = path.stat().st_size
    if size > limit:
        source.problem(
            f"the file is {size // 1024} KB; a file can be at most "
            f"{limit // 1024} KB (the largest lesson and its front matter)"
        )
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        source.problem("not UTF-8 text")
        return None


def load_yaml(text: str, source: Source, *, first_line: int = 1) -> dict | None:
    """The YAML's keys and values (None when it cannot be read), noting the line of each key
    in `source.lines`; `first_line` is the file's line the text starts on."""
    if not text.strip():
        return {}
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or exc)[:200]
        source.problem(
            f"the YAML cannot be read: {problem}",
            line=first_line + mark.line if mark else None,
        )
        return None
    except ValueError as exc:  # PyYAML's own date parsing, e.g. 2026-13-45
        source.problem(f"the YAML has a value that cannot be read: {str(exc)[:200]}")
        return None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        source.problem(f"expected keys and values, found {type(data).__name__}")
        return None
    source.lines = {
        str(key.value): first_line + key.start_mark.line
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return data


def split_front_matter(text: str, source: Source) -> tuple[dict | None, str | None, int]:
    """(front matter or None, body or None, the file's line the body starts on)."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        source.problem("no front matter (the file must start with a line '---')", line=1)
        return None, None, 0
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            meta = load_yaml("".join(lines[1:i]), source, first_line=2)
            rest = "".join(lines[i + 1 :])
            body = rest.lstrip("\n")
            return meta, body, i + 2 + (len(rest) - len(body))
    source.problem("the front matter is not closed by a line '---'", line=1)
    return None, None, 0
