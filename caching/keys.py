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
from django.utils.safestring import SafeData

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


# A key (key_of) written out in full, each value as itself: JSON's encoder, in C, writes it in
# half the time repr() does.
_written = json.JSONEncoder(default=_by_type, check_circular=False, separators=(",", ":")).encode


# The values a store of shared facts holds (caching.stores.Store(named=True): a lesson with its
# neighbours, a series with a page of its lessons), each part of them named by where it is
# kept while the store holds it: the store's name, the value's key in it and the moment it
# stops holding (a scheduled lesson coming out), and the path to the part. Within one
# generation, and until that moment, such a store gives one value for one key (its values are
# made from the content alone, and views never change them), as a model instance is named by
# its primary key for the same reason. id → (the part, held, so that no other object takes its
# address; its name; with KEPT_TEMPLATES_STRICT, what it held then, see `_as_held`).
_held: dict[int, tuple] = {}


class ChangedWhileHeld(Exception):
    """A value a named store holds was changed after it was kept (KEPT_TEMPLATES_STRICT)."""


def _parts(value, name: tuple):
    """(part, its name) for `value` and what it is made of: the items of its tuples and lists,
    the fields of its dataclasses, down to model instances (named whole: their related objects
    are named by their own place, if they have one)."""
    pending, seen = [(value, name)], set()
    while pending:
        part, named = pending.pop()
        if id(part) in seen:  # met twice (or a value that holds itself): named by its first place
            continue
        seen.add(id(part))
        if isinstance(part, Model):
            yield part, named
        elif isinstance(part, list | tuple):
            yield part, named
            pending.extend((item, (*named, i)) for i, item in enumerate(part))
        elif dataclasses.is_dataclass(part) and not isinstance(part, type):
            yield part, named
            pending.extend(
                (getattr(part, field), (*named, field)) for field in _field_names(type(part))
            )


def hold(value, name: tuple) -> None:
    """Name `value` and its parts by `name` (a store's name, the value's key, until when it
    holds) while a store holds it; a part held under another name already keeps that one.
    Such a value is named without being looked at: a view that changed it (an attribute
    added to a lesson it lists) would change it for every request and every page named by
    it, so views never do (lessons/pages.py). With KEPT_TEMPLATES_STRICT (tests, DEBUG) what
    it holds is noted, and a key that names it once it was changed is refused
    (ChangedWhileHeld)."""
    strict = settings.KEPT_TEMPLATES_STRICT
    for part, named in _parts(value, name):
        _held.setdefault(id(part), (part, named, _as_held(part) if strict else None))


def _as_held(part) -> tuple[tuple, tuple]:
    """What a part holds, to tell later whether it was changed (tests and DEBUG): the names and
    values of a model instance's attributes but its own bookkeeping (`_…`) and its cached
    properties (worked out from what it holds), or a list's items."""
    if isinstance(part, Model):
        kind = type(part)
        attributes = [
            (name, value)
            for name, value in vars(part).items()
            if not name.startswith("_")
            and not isinstance(getattr(kind, name, None), functools.cached_property)
        ]
        return tuple(name for name, _ in attributes), tuple(value for _, value in attributes)
    if isinstance(part, list):
        return (), tuple(part)
    return (), ()


def _check_unchanged(value) -> None:
    """With KEPT_TEMPLATES_STRICT: refuse to name by its place a held value that a view
    changed (an attribute added to a lesson it lists, an item added to a list), which its
    place no longer names."""
    for part, _ in _parts(value, ()):
        found = _held.get(id(part))
        if found is None or found[0] is not part or found[2] is None:
            continue
        (names, values), (names_then, values_then) = _as_held(part), found[2]
        if names != names_then or not _same(values, values_then):
            raise ChangedWhileHeld(
                f"A {type(part).__qualname__} the {found[1][0]!r} store holds (under "
                f"{found[1][1]!r}) was changed after it was kept: what a store holds is shared "
                "by every request, and keys name it by its place there. Change a copy."
            )


def let_go(value, name: tuple) -> None:
    """The store no longer holds `value`: its parts are named by what they are again."""
    for part, named in _parts(value, name):
        found = _held.get(id(part))
        if found is not None and found[0] is part and found[1] == named:
            del _held[id(part)]


class _Naming:
    """What one key has named so far: the model instances, in order (a cycle through related
    objects, or one instance shown twice, names it again by its place), and the containers
    being named now (one that holds itself cannot be named)."""

    __slots__ = ("instances", "open")

    def __init__(self):
        # id → (place, the instance: held, so that no other object takes its address)
        self.instances: dict[int, tuple[int, Model]] = {}
        self.open: set[int] = set()


def key_of(value, _naming=None):
    """What names `value` in a key. Plain values (a number, None, a short text, a date) name
    themselves; anything else is named by a tuple whose first item says what it is, so that
    no two different values are ever named alike:

    - a long text: ("text", its length, its digest); a text marked safe: ("safe", the text);
    - a list, a tuple: ("list" or "tuple", each item); a set, a frozenset: ("set" or
      "frozenset", each item, sorted); a dict with text keys: ("dict", (name, value) sorted by
      name); one of a type of its own (a named tuple, an ordered dict) with its type beside
      ("tuple:module.Point", …); a dataclass: ("dataclass", its type, each field); an enum,
      text choices too: ("enum", its type, its value); a number or date of a type of its own:
      ("atom", its type, its repr);
    - a model instance: ("model", its model, primary key, every attribute a query or a view
      added to it (annotations, worked-out ranges), the related objects fetched with it, the
      objects prefetched for it), since within one generation those are all it can differ by.
      One met again within the same key (a lesson listed and also the first one locked, the
      lessons a derived value is made from, a series and its offer's series) is ("again", n):
      the n-th instance the key named, counting in the order the key is written;
    - a derived value (caching.kept.derived): ("derived", its function, its arguments);
    - a value a store of shared facts holds, or a part of it: ("kept", the store's name, the
      value's key in it, until when it holds, the path to the part), see `hold()`.

    Anything else raises TypeError."""
    kind = type(value)
    if kind in _PLAIN or (kind is str and len(value) <= LONG_TEXT):  # the commonest, at once
        return value
    held = _held.get(id(value))
    if held is not None and held[0] is value:
        if held[2] is not None:
            _check_unchanged(value)
        return ("kept", *held[1])
    naming = _Naming() if _naming is None else _naming
    if kind is Derived:  # before any isinstance(), which would work it out
        return value.key_in(naming)
    if issubclass(kind, Model):  # by its type: a lazy object is named by what it wraps
        found = naming.instances.get(id(value))
        if found is not None:
            return ("again", found[0])
        naming.instances[id(value)] = (len(naming.instances), value)
        return _model_key(value, naming)
    return _key_of_other(value, naming)


def _key_of_other(value, naming: _Naming):
    if isinstance(value, Derived):
        return value.key_in(naming)
    if isinstance(value, SimpleLazyObject):  # named by what it wraps, whatever that is
        if value._wrapped is empty:
            value._setup()
        return key_of(value._wrapped, naming)
    kind = type(value)
    if isinstance(value, enum.Enum):  # before text: a text choice is an enum, with a label
        return ("enum", _type_name(kind), key_of(value.value, naming))
    if isinstance(value, str | Promise):
        text = str(value)
        named = text if len(text) <= LONG_TEXT else _long(text)
        return ("safe", named) if isinstance(text, SafeData) else named
    if isinstance(value, _ATOMS):  # a type of its own built on a number, a date…
        return ("atom", _type_name(kind), repr(value))
    if id(value) in naming.open:
        raise TypeError(f"A {kind.__qualname__} that holds itself cannot name a kept part.")
    naming.open.add(id(value))
    try:
        return _key_of_container(value, kind, naming)
    finally:
        naming.open.discard(id(value))


_CONTAINERS = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset", dict: "dict"}


def _key_of_container(value, kind, naming: _Naming):
    # Each item in the order it is written, so that ("again", n) counts as the key reads.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            "dataclass",
            _type_name(kind),
            *(key_of(getattr(value, name), naming) for name in _field_names(kind)),
        )
    tag = _CONTAINERS.get(kind)
    if tag is None:  # a list, a tuple, a set or a dict of a type of its own
        if isinstance(value, tuple(_CONTAINERS)):
            tag = f"{_CONTAINERS[next(b for b in kind.__mro__ if b in _CONTAINERS)]}:" + (
                _type_name(kind)
            )
        else:
            raise TypeError(f"A {kind.__qualname__} cannot name a kept part: pass what it shows.")
    if isinstance(value, list | tuple):
        return (tag, *(key_of(item, naming) for item in value))
    if isinstance(value, set | frozenset):
        # In no order of their own: each item named on its own, then sorted.
        return (tag, *_sorted(key_of(item) for item in value))
    if not all(type(name) is str for name in value):
        raise TypeError("A dict names a kept part by its text keys only.")
    return (tag, *((name, key_of(value[name], naming)) for name in sorted(value)))


def _sorted(named) -> list:
    """Items' keys in one order whatever the set's: as they compare (numbers, texts), else as
    they are written."""
    named = list(named)
    try:
        return sorted(named)
    except TypeError:
        return sorted(named, key=_written)


def _long(text: str) -> tuple:
    return ("text", len(text), hashlib.sha256(text.encode()).hexdigest())


@functools.cache
def _type_name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


@functools.cache
def _field_names(dataclass: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(dataclass))


@functools.cache
def _columns(model) -> frozenset[str]:
    return frozenset(field.attname for field in model._meta.concrete_fields)


# Where a model instance keeps what names it (`_model_key`), beside its attributes.
_REMEMBERED = "_kept_key"
_SETTLED = (str, *_ATOMS)


def _model_key(instance: Model, naming: _Naming) -> tuple:
    """Its model, primary key, added attributes, related and prefetched objects (key_of).
    What names the instance itself is remembered on it with its attributes as they were, and
    worked out again whenever they differ (one assigned, added or removed), or always when an
    added one is not a plain value that cannot change in place (a list, an object). Related
    and prefetched objects are named again each time, each related one remembering its own."""
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
        # A settled value holds no instance: it is named on its own, the same whatever was
        # named beside it (it has no instance to name "again").
        own = (
            "model",
            instance._meta.label,
            instance.pk,
            tuple((n, key_of(v) if settled else key_of(v, naming)) for n, v in added),
        )
        # With the attributes as they are, which it keeps alive, so that a changed one is
        # never another object at the same address (and it holds no reference to itself,
        # so that the instance, once let go, is freed at once, not by the cycle collector).
        remembered = (tuple(state.values()), own)
        if settled:
            state[_REMEMBERED] = remembered  # the last attribute
    related = tuple(
        (name, key_of(value, naming))
        for name, value in sorted(instance._state.fields_cache.items())
    )
    prefetched = tuple(
        (name, key_of(list(found), naming))
        for name, found in sorted(state.get("_prefetched_objects_cache", {}).items())
    )
    return (*remembered[1], related, prefetched)


def _same(then: tuple, now: tuple) -> bool:
    return len(then) == len(now) and all(map(operator.is_, then, now))


def _settled(value) -> bool:
    """A value that cannot change while the same object: a plain value, or a tuple or frozen
    dataclass of them."""
    if issubclass(type(value), LazyObject):  # by its type: isinstance() would work it out
        return False
    if isinstance(value, enum.Enum):
        return _settled(value.value)
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

    def key_in(self, naming: _Naming) -> tuple:
        function, args, kwargs = self.__dict__["named"]
        return (
            "derived",
            f"{function.__module__}.{function.__qualname__}",
            tuple(
                ("address", *address(arg)) if isinstance(arg, HttpRequest) else key_of(arg, naming)
                for arg in args
            ),
            tuple((name, key_of(arg, naming)) for name, arg in sorted(kwargs.items())),
        )
