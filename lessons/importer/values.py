"""The values of a YAML file's keys, read and checked as saving would check them, each
problem on the line of its key (series.yaml's sections of other apps use these too)."""

import difflib

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from config import env
from lessons.importer.problems import Source, shown

MAX_UNKNOWN_KEYS_SHOWN = 10


def text_value(data: dict, key: str, source: Source, default: str = "") -> str:
    """A text value; numbers are taken as written, lists and mappings are refused."""
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool | list | dict):
        source.problem(f"'{key}' must be text (got {shown(value)})", key=key)
        return default
    return str(value)


def flag_value(data: dict, key: str, source: Source) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    if str(value).strip().lower() in env.TRUE:
        return True
    if str(value).strip().lower() in env.FALSE - {""}:
        return False
    source.problem(f"'{key}' must be true or false (got {shown(value)})", key=key)
    return None


def unknown_keys(data: dict, allowed: set[str], source: Source) -> None:
    """Each unknown key on its line, with the known key it was perhaps meant to be (the
    first MAX_UNKNOWN_KEYS_SHOWN of them, then how many more)."""
    unknown = sorted((key for key in data if key not in allowed), key=lambda key: (
        source.lines.get(str(key), 0), str(key)
    ))  # fmt: skip
    for key in unknown[:MAX_UNKNOWN_KEYS_SHOWN]:
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        source.problem(
            f"unknown key {shown(key).strip(chr(39))}{hint}", line=source.lines.get(str(key))
        )
    if len(unknown) > MAX_UNKNOWN_KEYS_SHOWN:
        source.problem(
            f"and {len(unknown) - MAX_UNKNOWN_KEYS_SHOWN} more unknown keys",
            line=source.lines.get(str(unknown[MAX_UNKNOWN_KEYS_SHOWN])),
        )


def validate(instance, source: Source, *, key_of: dict, exclude: set[str], clean=False) -> None:
    """Check `instance` as `full_clean()` does (its fields, uniqueness and constraints, and
    `clean()` when `clean`), each problem on the line of its key. Fields in `exclude` were
    found wrong already; key_of: {field: key} where they differ."""
    checks = [
        lambda: instance.clean_fields(exclude=exclude),
        lambda: instance.validate_unique(exclude=exclude),
        lambda: instance.validate_constraints(exclude=exclude),
    ]
    if clean:
        checks.append(instance.clean)
    errors: dict[str, list[ValidationError]] = {}
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            for name, found in exc.update_error_dict({}).items():
                if name not in exclude:
                    errors.setdefault(name, []).extend(found)
    for name, found in errors.items():
        for error in found:
            fields = [name]
            if name == NON_FIELD_ERRORS and error.params and error.params.get("unique_check"):
                fields = [f for f in error.params["unique_check"] if f != "series"] or fields
            key = key_of.get(fields[0], fields[0])
            line = source.lines.get(key)  # none for the body: its messages name its own lines
            label = "" if fields[0] == NON_FIELD_ERRORS else f"{key}: "
            for message in error.messages:
                source.problem(f"{label}{message}", line=line)


def apply(instance, values: dict) -> bool:
    """Set `values` on `instance`; return whether anything differs from what it had."""
    changed = instance.pk is None
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed
