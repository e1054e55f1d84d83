"""Environment files read the way systemd's `EnvironmentFile=` reads them.

`KEY=VALUE` lines; blank lines and lines starting with `#` or `;` are skipped; whitespace around
the value is dropped; a value wholly in single or double quotes loses them. Anything else is
the value, a `#` after it included: systemd has no trailing comments, so neither do we. The
site's own `.env` (config/env.py) is read by the same rules.

    python -m config.envfile [--fill-secrets] FILE -- COMMAND...

runs COMMAND with FILE's variables added to the environment; `--fill-secrets` replaces values
starting with `change-me` by random ones (CI checks the sample production environment so).
"""

import os
import secrets
import sys
from pathlib import Path

PLACEHOLDER = "change-me"


def parse(text: str) -> dict[str, str]:
    variables = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        variables[key.strip()] = value
    return variables


def read(path: Path) -> dict[str, str]:
    return parse(path.read_text()) if path.is_file() else {}


def fill_secrets(variables: dict[str, str]) -> dict[str, str]:
    return {
        key: secrets.token_urlsafe(50) if value.startswith(PLACEHOLDER) else value
        for key, value in variables.items()
    }


def main(argv: list[str]) -> None:
    fill = argv[:1] == ["--fill-secrets"]
    argv = argv[1:] if fill else argv
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m config.envfile [--fill-secrets] FILE -- COMMAND...")
    variables = read(Path(argv[0]))
    if fill:
        variables = fill_secrets(variables)
    os.execvpe(argv[2], argv[2:], {**os.environ, **variables})  # noqa: S606


if __name__ == "__main__":
    main(sys.argv[1:])
