"""A request's rendering, bounded: one time budget across its Markdown and all its diagrams,
one render at a time per author, and a live preview that stops as soon as a newer one starts.

The admin renders an author's text in the live preview and when a lesson or series is saved
(validation, then the save itself). Each step has its own limit (LESSON_RENDER_SECONDS for the
Markdown, lessons.diagrams.TIME_LIMIT_SECONDS per diagram); `bounded()` puts one more around the
whole request, so that no text, however many diagrams it holds, keeps a worker busy for longer
than LESSON_RENDER_BUDGET_SECONDS of rendering:

- **Time.** New work asks `current()` for what is left (`seconds_for()`); work whose result is
  already known (a drawing made before, in this process or any other: lessons.diagrams) costs
  nothing and is never refused. What the budget cuts short is named for the author and not
  remembered as too slow: the next preview or save carries on where this one stopped.
- **One at a time per author, a few at a time for the site.** A request that renders takes the
  author's slot in the shared cache first, then one of LESSON_RENDERS_AT_ONCE slots for the
  whole site (waiting up to SLOT_WAIT_SECONDS in all); while another render of theirs, or as
  many renders as the site allows, hold them, the request is refused with `refusal` (the live
  preview answers 429, a save shows it on the form) instead of taking another worker: no
  author holds more than one, and readers always have the rest.
- **A newer preview wins.** Each preview or save advances the author's generation in the shared
  cache; a preview that sees a newer generation (checked at most every POLL_SECONDS, while
  waiting for a child process too) raises `Superseded`, its child processes are killed and it
  answers at once, freeing the slot for the newer one.

All of it fails safe: while the shared cache is away (caching/backend.py: reads miss, writes are
lost) every request gets the slot and no preview is superseded, and the time budget, which
needs no cache, still bounds each request.
"""

import contextlib
import contextvars
import secrets
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

# How long a request waits for its author's slot: long enough for a preview it replaces to
# notice and stop, short enough that waiting authors hold no worker for long.
SLOT_WAIT_SECONDS = 1.0
# When a refused live preview asks again (its Retry-After).
RETRY_AFTER_SECONDS = 2
POLL_SECONDS = 0.2
# A slot is freed by its request; one left by a killed worker expires this long after the
# request's budget.
SLOT_MARGIN_SECONDS = 30
GENERATION_SECONDS = 24 * 3600


class Superseded(Exception):
    """A newer preview or save by the same author started: this preview stops drawing."""


@dataclass
class Budget:
    seconds: float
    deadline: float  # time.monotonic()
    user_id: int | None = None
    generation: int | None = None  # a preview's, when a newer one may stop it
    refusal: str = ""  # why this request may not render (a render of theirs, the site's limit)
    refusal_reported: bool = False
    _checked_at: float = field(default=0.0, repr=False)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def seconds_for(self, limit: float) -> float:
        """How long the next piece of work may take: its own limit, or what is left of the
        budget when that is less (0 or less: none left)."""
        return min(limit, self.remaining())

    def check(self) -> None:
        """Raise Superseded when a newer preview or save by the same author has started."""
        if self.generation is None:
            return
        now = time.monotonic()
        if now - self._checked_at < POLL_SECONDS:
            return
        self._checked_at = now
        latest = _cache_call(cache.get, _generation_key(self.user_id))
        if isinstance(latest, int) and latest > self.generation:
            raise Superseded

    def report_refusal(self) -> str:
        """The refusal, the first time it is asked for ("" after): a form shows it once."""
        if not self.refusal or self.refusal_reported:
            return ""
        self.refusal_reported = True
        return self.refusal


_current: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "render_budget", default=None
)


def current() -> Budget | None:
    """The budget of the request being served, or None (a command, a test: no total bound)."""
    return _current.get()


@contextlib.contextmanager
def bounded(*, user=None, preview: bool = False, seconds: float | None = None):
    """Render within one budget for this block (see the module). `user`: the author, whose
    slot and one of the site's LESSON_RENDERS_AT_ONCE slots are taken, and whose generation is
    advanced; `preview`: a newer preview or save stops this one (Superseded)."""
    total = settings.LESSON_RENDER_BUDGET_SECONDS if seconds is None else seconds
    budget = Budget(seconds=total, deadline=time.monotonic() + total)
    held: list[tuple[str, str]] = []
    if user is not None and user.is_authenticated:
        budget.user_id = user.pk
        generation = _advance(user.pk)
        if preview:
            budget.generation = generation
        give_up = time.monotonic() + SLOT_WAIT_SECONDS
        if slot := _take_slot([f"render:slot:{user.pk}"], budget, give_up):
            held.append(slot)
            sites = [f"render:site:{n}" for n in range(settings.LESSON_RENDERS_AT_ONCE)]
            if slot := _take_slot(sites, budget, give_up):
                held.append(slot)
            else:
                budget.refusal = gettext(
                    "Other authors’ texts are being rendered right now. Wait a moment, then "
                    "try again: this one was not rendered, so that the site keeps workers free "
                    "for its readers."
                )
        else:
            budget.refusal = gettext(
                "Another preview or save of yours is still being rendered. Wait a moment, "
                "then try again: this one was not rendered, so that your texts never hold "
                "more than one of the site’s workers."
            )
    context = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(context)
        for key, token in held:
            _free_slot(key, token)


def _generation_key(user_id) -> str:
    return f"render:generation:{user_id}"


def _cache_call(method, *args, default=None, **kwargs):
    """A shared-cache call that cannot fail the render: any error is `default`."""
    try:
        return method(*args, **kwargs)
    except Exception:
        return default


def _advance(user_id) -> int | None:
    """The author's next generation, or None when the shared cache cannot count."""
    key = _generation_key(user_id)
    _cache_call(cache.add, key, 0, GENERATION_SECONDS)
    value = _cache_call(cache.incr, key)
    return value if isinstance(value, int) else None


def _take_slot(keys: list[str], budget: Budget, give_up: float) -> tuple[str, str] | None:
    """(key, token) of the first of these slots free in the shared cache, or None when they
    stay taken until `give_up`. A preview replaced while it waits raises Superseded."""
    token = secrets.token_hex(8)
    expires = round(budget.seconds + SLOT_MARGIN_SECONDS)
    while True:
        for key in keys:
            if _cache_call(cache.add, key, token, expires, default=True):
                return key, token
        if time.monotonic() >= give_up:
            return None
        budget.check()
        time.sleep(0.05)


def _free_slot(key: str, token: str) -> None:
    if _cache_call(cache.get, key) == token:
        _cache_call(cache.delete, key)
