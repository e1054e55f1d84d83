"""What the importer found wrong: each problem in its file, on its line, all at once."""

import reprlib
from dataclasses import dataclass

SERIES_FILE = "series.yaml"
shown = reprlib.Repr(maxlevel=2, maxlist=4, maxdict=4, maxstring=60, maxother=60).repr


@dataclass(frozen=True)
class Problem:
    """One thing to fix: in which file, on which line (None: the file as a whole), what."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: line {self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ImportFailed(Exception):
    """Nothing was imported; `problems` lists every problem found, file by file (series.yaml
    first), in the order of their lines."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file != SERIES_FILE, p.file, p.line or 0))
        super().__init__("\n".join(map(str, self.problems)))

    @property
    def files(self) -> int:
        """How many files have problems."""
        return len({problem.file for problem in self.problems})


class Source:
    """One file being checked: its name, the line of each key of its YAML, the keys found
    wrong, and where its problems go."""

    def __init__(self, name: str, problems: list[Problem]):
        self.name, self.problems = name, problems
        self.lines: dict[str, int] = {}
        self.bad: set[str] = set()

    def problem(self, message: str, *, key: str | None = None, line: int | None = None) -> None:
        if key is not None:
            self.bad.add(key)
            line = line or self.lines.get(key)
        self.problems.append(Problem(self.name, line, message))
