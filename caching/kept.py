"""Pages and parts of pages kept in the worker, made from their key's data alone.

`{% shared "name" var=value … %}…{% endshared %}` (caching/templatetags/shared.py) renders its
content once per key and keeps it in `fragments`. The content is rendered from a context that
holds the named values and nothing else: no request, no user, no message, none of the page's
other variables. The key is made of the same values (caching.keys.part_key), with the
language and the address's scheme and host. So a part cannot show what its key does not name:
a reader's data reaches it only when it is passed to it by name, and then it names the key.

Beside the named values a kept part sees CONSTANTS only: the site's name, the language, and a
marker in place of the CSRF token. The request's own token replaces the marker on the way out
(`with_token`), so kept HTML never holds a real token, and a request whose page shows none
does not ask for one.

A whole page is kept the same way, per tier rather than per reader (`render_page`, as Ghost
keeps members' pages): the view passes what the page shows every reader of its tier
(`shared`: the lesson, its body or its teaser, whether it is read in full, and as values what
a reader's page differs by: logged in or not, has the whole series, follows it, their place
in the series…). The page is rendered once from `shared` alone, each
`{% own %}…{% endown %}` block in it left as a hole, and kept by `shared`'s key with the
address's languages (`whole_pages`: in the worker, and in the shared cache for every worker,
the holes named by where their blocks are, as template nodes cannot leave a worker); on every
request the holes are filled in from the request's whole context (messages). The paywall,
call to action and follow box are kept with the page: their tags take those values by name
(access.templatetags.access); so is the header, which shows a logged-in reader only whether
they are staff (`kept_for`, base.html).
A hole may take values of the kept page by name (`{% own lesson=lesson %}`, inside a loop:
which item a reader's part is about): they are read from the kept page's context, so its
key names them, kept with the hole, and given to it beside the request's context. What a
page shows of a reader that many readers share (the series page: which listed lessons they
opened and read to the end) is better named in `shared`, as a value, than left as holes:
the page is then kept whole for each such value, and served without filling anything in.

With KEPT_TEMPLATES_STRICT (on in tests and with DEBUG) a kept part or page that reads a
variable it was not given fails loudly (UnnamedVariable), instead of showing nothing: a
maintainer who adds `{{ user.email }}` to a shared include gets a failing test, not a leak and
not a blank.
"""

import secrets
import weakref
from collections.abc import Callable

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.template import Context, RequestContext
from django.template.context import RenderContext
from django.template.loader import get_template
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe

from caching import keys
from caching.stores import Store
from config.context_processors import page_languages
from config.csrf import get_token

# Where a kept part or page shows the CSRF token. Derived from the secret key, so that no text
# from an author or a reader can contain it, and the same in every process that shares the
# secret (and so the shared cache): a page kept by one worker is served by another, which puts
# its own reader's token where the marker stands.
CSRF_MARKER = (
    "csrf-" + salted_hmac("caching.kept.CSRF_MARKER", "marker", algorithm="sha256").hexdigest()[:32]
)
# Where a hole is while a page is being kept (never stored): random for each process.
HOLE_MARKER = f"\x00own-{secrets.token_hex(16)}\x00"
FRAGMENTS_MAX_BYTES = 2 * 1024 * 1024  # per worker
PAGES_MAX_BYTES = 2 * 1024 * 1024  # per worker; the rest in the shared cache

# Parts are kept in the worker only: the parts that repeat across pages (the header, the
# footer) are few and stay in it; a part of one page only is kept with its page.
fragments = Store("kept parts", max_bytes=FRAGMENTS_MAX_BYTES)
# Whole pages kept per tier (render_page): in the worker, and in the shared cache for all.
whole_pages = Store("kept pages", max_bytes=PAGES_MAX_BYTES, shared=True)

# The {% own %} blocks this worker has met, by where they are in their template: a page kept in
# the shared cache names its holes so, since template nodes cannot leave a worker.
_own_blocks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class UnnamedVariable(Exception):
    """A kept part read a variable its {% shared %} tag did not pass."""


class KeptContext(Context):
    """The context of a kept part: its named values and the constants, nothing of the page's.
    When `strict`, reading a name it does not hold raises UnnamedVariable (the template
    engine would otherwise show nothing, which hides the mistake)."""

    def __init__(
        self, values: dict, *, name: str, where: tuple, strict: bool, holes=None, **options
    ):
        super().__init__(values, **options)
        self.part_name, self.where, self.strict = name, where, strict
        # While a whole page is kept: the {% own %} blocks left as holes, in order, each as
        # where it is and the values of the page it names.
        self.holes = holes

    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except KeyError:
            if self.strict:
                raise UnnamedVariable(
                    f'The kept part "{self.part_name}" reads "{key}", which its '
                    f"{{% shared %}} tag does not pass: pass it by name ({key}=…), which puts "
                    f"it in the part's key, or show it outside the kept part."
                ) from None
            raise

    def new(self, values=None):
        context = super().new(values)
        context.part_name, context.where, context.strict = self.part_name, self.where, self.strict
        context.holes = self.holes
        return context


def constants() -> dict:
    """What every kept part may read besides its named values: the same for every reader."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "LANGUAGE_CODE": translation.get_language(),
        "csrf_token": CSRF_MARKER,
    }


def with_token(html: str, token: Callable[[], object]) -> SafeString:
    """Kept HTML with the request's own CSRF token (`token()`, asked only when needed)."""
    if CSRF_MARKER in html:
        html = html.replace(CSRF_MARKER, str(token() or ""))
    return mark_safe(html)  # noqa: S308 (rendered, and escaped, by the template engine)


def _kept_context(outer: Context, name: str, values: dict, where: tuple, holes=None):
    context = KeptContext(
        {**constants(), **values},
        name=name,
        where=where,
        strict=settings.KEPT_TEMPLATES_STRICT,
        holes=holes,
        autoescape=outer.autoescape,
        use_l10n=outer.use_l10n,
        use_tz=outer.use_tz,
    )
    context.template, context.template_name = outer.template, outer.template_name
    context.render_context = RenderContext()
    return context


def render_part(outer: Context, name: str, values: dict, nodelist) -> SafeString:
    """`nodelist` rendered from `values` alone (kept by their key), with `outer`'s CSRF token.
    Inside a page being kept, it is rendered the same way but kept only as part of the page."""
    if isinstance(outer, KeptContext):
        return nodelist.render(_kept_context(outer, name, values, outer.where, outer.holes))
    request = getattr(outer, "request", None) or outer.get("request")
    where = keys.address(request)
    key = keys.part_key(name, values, where)
    html = fragments.get(key, lambda: nodelist.render(_kept_context(outer, name, values, where)))
    return with_token(html, lambda: outer.get("csrf_token", ""))


def render_own(context: Context, node) -> str:
    """An {% own %} block: rendered in place on a page rendered for its reader alone, left as a
    hole in a page being kept (filled in by `render_page` on each request), with the values it
    names read now, from the kept page's context."""
    values = {name: value.resolve(context) for name, value in node.values.items()}
    if isinstance(context, KeptContext) and context.holes is not None:
        _own_blocks[node.place] = node
        context.holes.append((node.place, values))
        return HOLE_MARKER
    # on a page rendered for its reader alone, or inside a kept part (nothing of the reader
    # to show: the part's context holds only its named values)
    if not values:
        return node.nodelist.render(context)
    with context.push(values):
        return node.nodelist.render(context)


def render_page(request, template_name: str, *, shared: dict) -> HttpResponse:
    """`render()` for a page kept per tier: rendered once from `shared` (and the address's
    languages), kept, its {% own %} holes filled in from the whole context (`shared` and the
    request's) on every request. A reader who is not logged in gets the page rendered whole
    (their page is the same for every anonymous reader: caching.anonymous keeps it)."""
    if not request.user.is_authenticated:
        return render(request, template_name, shared)
    template = get_template(template_name).template
    values = {
        **shared,
        # Worked out only when the page is made: named by the address, path and query.
        "page_languages": derived(
            page_languages, request, request.path, request.META.get("QUERY_STRING", "")
        ),
        # What the header shows a logged-in reader (base.html): kept with the page.
        "kept_for": {"staff": request.user.is_staff},
    }
    where = keys.address(request)

    def render_kept():
        holes: list = []
        context = _kept_context(Context(), f"page:{template_name}", values, where, holes)
        html = template.render(context)
        return tuple(html.split(HOLE_MARKER)), tuple(holes)

    # The marker names the key as well: a page kept under another secret key (before a
    # rotation) holds another marker, which this process would not replace.
    key = keys.part_key(f"page:{template_name}", values, (*where, CSRF_MARKER))
    texts, holes = whole_pages.get(key, render_kept)
    nodes = [_own_blocks.get(place) for place, _ in holes]
    if None in nodes:
        # Kept by another worker, from blocks this one has not compiled yet: made here once.
        texts, holes = render_kept()
        whole_pages.put(key, (texts, holes))
        nodes = [_own_blocks[place] for place, _ in holes]
    context = RequestContext(request, shared)
    parts = [texts[0]]
    with context.bind_template(template):
        for node, (_, hole_values), text in zip(nodes, holes, texts[1:], strict=True):
            if hole_values:
                with context.push(hole_values):
                    parts.append(node.nodelist.render(context))
            else:
                parts.append(node.nodelist.render(context))
            parts.append(text)
    return HttpResponse(with_token("".join(parts), lambda: get_token(request)))


def derived(function, *args, **kwargs) -> keys.Derived:
    """`function(*args, **kwargs)`, worked out only when a kept part that shows it is made, and
    named in keys by the function and its arguments. A request among the arguments stands for
    its address: the function may read its scheme and host (to build absolute links), nothing
    else of it."""
    return keys.Derived(function, *args, **kwargs)
