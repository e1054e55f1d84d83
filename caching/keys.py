"""Keys, built in one place from the data a kept thing is made of; never written by hand.

A kept page for anonymous readers is named by its address (`address_key`); a kept part of a
page by its name, the values it is rendered from, the language and the address's scheme and
host (`part_key`). The generation (caching.generation) is kept beside every entry, not in its
key. `key_of` turns each value into something that names it: a value it does not know how to
name is refused (TypeError), never named by a part of it.
"""

import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import importlib
import importlib.metadata
import json
import operator
import uuid
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest
from django.utils import translation
from django.utils.functional import LazyObject, Promise, SimpleLazyObject, empty

_ATOMS = (int, float, bool, type(None), decimal.Decimal, datetime.date, datetime.time,
          datetime.timedelta, uuid.UUID)  # fmt: skip
_PLAIN = frozenset(_ATOMS) | {datetime.datetime}
LONG_TEXT = 200  # characters; a longer text is named by its digest


# What a release's pages are made from: its code, templates, catalogues, styles and scripts
# (pages name the static files by their digests).
_SOURCES = ("*.py", "*.html", "*.txt", "*.xml", "*.mo", "*.css", "*.js")
_PACKAGES = ("django", "django-allauth", "markdown", "bleach")


@functools.cache
def code_version() -> str:
    """A digest of what makes pages besides the content: the site's own code (its apps and its
    project's package), templates, translations, styles and scripts, and the versions of the
    packages that render them. What the shared cache keeps names it, so one release (or a
    server still on the last one, mid-deploy) never serves what another made."""
    digest = hashlib.sha256()
    for package in _PACKAGES:
        digest.update(f"{package}=={importlib.metadata.version(package)}\n".encode())
    root = Path(settings.BASE_DIR)
    for folder in _source_folders(root):
        for pattern in _SOURCES:
            for path in sorted(folder.rglob(pattern)):
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _source_folders(root: Path) -> list[Path]:
    """The project's own folders pages are made from (never an environment or media)."""
    # the project's package (its settings, URLs, middlewares), which is not an app
    project = Path(importlib.import_module(settings.ROOT_URLCONF).__file__).parent
    found = {project} | {
        Path(app.path) for app in apps.get_app_configs() if Path(app.path).is_relative_to(root)
    }
    for engine in settings.TEMPLATES:
        found.update(Path(folder) for folder in engine.get("DIRS", []))
    found.update(Path(folder) for folder in (*settings.LOCALE_PATHS, *settings.STATICFILES_DIRS))
    return sorted(
        folder
        for folder in found
        if folder.is_dir()
        and folder.is_relative_to(root)
        and "site-packages" not in folder.parts  # installed packages: named by their versions
    )


def address_key(request) -> str:
    """Everything an anonymous page depends on: its address (scheme, host, path and query;
    canonical links and share tags name the scheme) and its language, which is the
    address's (config/languages.py)."""
    language = translation.get_language()
    return f"{language}:{request.scheme}://{request.get_host()}{request.get_full_path()}"


def address(request) -> tuple[str, str]:
    """The scheme and host absolute links of a kept part name ("" without a request)."""
    if request is None:
        return ("", "")
    # Asked several times a request (each kept part, each derived value): worked out once.
    found = request.__dict__.get("_kept_address")
    if found is None:
        found = request.__dict__["_kept_address"] = (request.scheme, request.get_host())
    return found


def part_key(name: str, values: dict, where: tuple[str, str]) -> tuple:
    """The key of the part `name` rendered from `values` (and nothing else) at the address
    `where` (caching.keys.address) in the current language."""
    named = _written(key_of(values)).encode()
    return (
        "part",
        name,
        translation.get_language() or "",
        *where,
        hashlib.sha256(named).hexdigest(),
    )


def _by_type(value) -> dict:
    """A value of a key JSON has no form for (a date, a time, a decimal, a UUID): written as
    an object, which nothing else in a key is written as, of its type and its repr."""
    return {type(value).__qualname__: repr(value)}


# A key (key_of: tuples of texts, numbers, None, booleans, dates…) written out in full, each
# value as itself: JSON's encoder, in C, writes it in half the time repr() does.
_written = json.JSONEncoder(default=_by_type, check_circular=False, separators=(",", ":")).encode


def key_of(value, _seen=None):
    """What names `value` in a key: itself for a number, date, short text or enum; a digest
    for a long text; each item for a list, a tuple, a set or a dict; each field for a
    dataclass; for a model instance its model, primary key, the related objects fetched with
    it and every attribute a query or a view added to it (annotations, worked-out ranges),
    since within one generation those are all it can differ by; for a derived value
    (caching.kept.derived) its function and arguments. Anything else raises TypeError.

    An object met again within one key (a lesson listed and also the first one locked, the
    lessons a derived value is made from) is named by which one it is: `("again", n)`, the
    n-th object the key named, counting in the order the key is written. So a key names
    every object it holds exactly, and each only once in full."""
    kind = type(value)
    if kind in _PLAIN or (kind is str and len(value) <= LONG_TEXT):  # the commonest, at once
        return value
    seen = {} if _seen is None else _seen
    if kind is Derived:  # before any isinstance(), which would work it out
        return value.key_in(seen)
    if issubclass(kind, Model):  # by its type: a lazy object is named by what it wraps
        if (again := _again(value, seen)) is not None:
            return again
        return _model_key(value, seen)
    return _key_of_other(value, seen)


def _again(value, seen: dict) -> tuple | None:
    """("again", n) for the n-th object this key named, if `value` is one; else None, and
    `value` is counted (and held, so that no other object takes its address meanwhile)."""
    found = seen.get(id(value))
    if found is not None:
        return ("again", found[0])
    seen[id(value)] = (len(seen), value)
    return None


def _key_of_other(value, seen: dict):
    kind = type(value)
    if isinstance(value, Derived):
        return value.key_in(seen)
    if isinstance(value, str | Promise):
        text = str(value)
        if len(text) <= LONG_TEXT:
            return text
        return ("text", len(text), hashlib.sha256(text.encode()).hexdigest())
    if isinstance(value, enum.Enum):
        return (type(value).__qualname__, value.value)
    if isinstance(value, _ATOMS):
        return value
    if isinstance(value, SimpleLazyObject):
        if value._wrapped is empty:
            value._setup()
        return key_of(value._wrapped, seen)
    if (again := _again(value, seen)) is not None:
        return again
    # Each in the order it is written, so that ("again", n) counts as the key reads.
    if isinstance(value, list | tuple):
        return tuple(key_of(item, seen) for item in value)
    if isinstance(value, set | frozenset):
        # In no order of their own: each item named on its own, then sorted.
        return ("set", *sorted((key_of(item) for item in value), key=repr))
    if isinstance(value, dict):
        return ("dict", *((name, key_of(item, seen)) for name, item in _by_name(value)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            kind.__qualname__,
            *(key_of(getattr(value, name), seen) for name in _field_names(kind)),
        )
    raise TypeError(f"A {type(value).__qualname__} cannot name a kept part: pass what it shows.")


def _by_name(mapping: dict) -> list[tuple[str, object]]:
    return sorted(((str(name), item) for name, item in mapping.items()), key=operator.itemgetter(0))


@functools.cache
def _field_names(dataclass: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(dataclass))


@functools.cache
def _columns(model) -> frozenset[str]:
    return frozenset(field.attname for field in model._meta.concrete_fields)


# Where a model instance keeps what names it (`_model_key`), beside its attributes.
_REMEMBERED = "_kept_key"
_SETTLED = (str, enum.Enum, *_ATOMS)


def _model_key(instance: Model, seen: dict) -> tuple:
    """Its model, primary key, added attributes and related objects (key_of). What names
    the instance itself is remembered on it with its attributes as they were, and worked
    out again whenever they differ (one assigned, added or removed), or always when an added
    one is not a plain value that cannot change in place (a list, an object). Related
    objects are named again each time, each remembering its own."""
    state = vars(instance)
    remembered = state.get(_REMEMBERED)
    if remembered is not None:
        now = tuple(state.values())
        if now[-1] is not remembered or not _same(remembered[0], now[:-1]):
            remembered = None
    if remembered is None:
        state.pop(_REMEMBERED, None)
        fields = _columns(type(instance))
        added = [(name, value) for name, value in sorted(state.items())
                 if name not in fields and not name.startswith("_")]  # fmt: skip
        settled = all(_settled(value) for _, value in added)
        # A settled value holds no instance and no cycle: it is named on its own (never as
        # "again", which would only mean something beside what this call was naming).
        own = (
            instance._meta.label,
            instance.pk,
            tuple((n, key_of(v) if settled else key_of(v, seen)) for n, v in added),
        )
        # With the attributes as they are, which it keeps alive, so that a changed one is
        # never another object at the same address (and it holds no reference to itself,
        # so that the instance, once let go, is freed at once, not by the cycle collector).
        remembered = (tuple(state.values()), own)
        if settled:
            state[_REMEMBERED] = remembered  # the last attribute
    related = tuple(
        (name, key_of(value, seen)) for name, value in sorted(instance._state.fields_cache.items())
    )
    return (*remembered[1], related)


def _same(then: tuple, now: tuple) -> bool:
    return len(then) == len(now) and all(map(operator.is_, then, now))


def _settled(value) -> bool:
    """A value that cannot change while the same object: a plain value, or a tuple or frozen
    dataclass of them."""
    if issubclass(type(value), LazyObject):  # by its type: isinstance() would work it out
        return False
    if isinstance(value, _SETTLED):
        return True
    if isinstance(value, tuple | frozenset):
        return all(_settled(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.__dataclass_params__.frozen and all(
            _settled(getattr(value, field.name)) for field in dataclasses.fields(value)
        )
    return False


class Derived(SimpleLazyObject):
    """A value worked out from named arguments only when a kept part that shows it is made
    (caching.kept.derived): named in keys by its function and arguments, never evaluated for
    the key. The arguments are named when a key is made, in that key: a lesson the page names
    already is named there again as which one it is."""

    def __init__(self, function, *args, **kwargs):
        self.__dict__["named"] = (function, args, kwargs)
        super().__init__(lambda: function(*args, **kwargs))

    def key_in(self, seen: dict) -> tuple:
        function, args, kwargs = self.__dict__["named"]
        return (
            "derived",
            f"{function.__module__}.{function.__qualname__}",
            tuple(
                ("address", *address(arg)) if isinstance(arg, HttpRequest) else key_of(arg, seen)
                for arg in args
            ),
            tuple((name, key_of(arg, seen)) for name, arg in sorted(kwargs.items())),
        )
