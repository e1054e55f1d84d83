"""Parts of pages kept in the worker, made from their key's data alone.

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

With KEPT_TEMPLATES_STRICT (on in tests and with DEBUG) a kept part that reads a variable it
was not given fails loudly (UnnamedVariable), instead of showing nothing: a maintainer who adds
`{{ user.email }}` to a shared include gets a failing test, not a leak and not a blank.
"""

import secrets
from collections.abc import Callable

from django.conf import settings
from django.template import Context
from django.template.context import RenderContext
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from caching import keys
from caching.stores import Store

# Random for each process, so no text from an author or a reader can contain it.
CSRF_MARKER = f"csrf-{secrets.token_hex(16)}"
FRAGMENTS_MAX_BYTES = 8 * 1024 * 1024

fragments = Store("kept parts", max_bytes=FRAGMENTS_MAX_BYTES)


class UnnamedVariable(Exception):
    """A kept part read a variable its {% shared %} tag did not pass."""


class KeptContext(Context):
    """The context of a kept part: its named values and the constants, nothing of the page's.
    When `strict`, reading a name it does not hold raises UnnamedVariable (the template
    engine would otherwise show nothing, which hides the mistake)."""

    def __init__(self, values: dict, *, name: str, where: tuple, strict: bool, **options):
        super().__init__(values, **options)
        self.part_name, self.where, self.strict = name, where, strict

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


def render_part(outer: Context, name: str, values: dict, nodelist) -> SafeString:
    """`nodelist` rendered from `values` alone (kept by their key), with `outer`'s CSRF token."""
    request = getattr(outer, "request", None) or outer.get("request")
    where = getattr(outer, "where", None) or keys.address(request)
    key = keys.part_key(name, values, where)

    def render():
        context = KeptContext(
            {**constants(), **values},
            name=name,
            where=where,
            strict=settings.KEPT_TEMPLATES_STRICT,
            autoescape=outer.autoescape,
            use_l10n=outer.use_l10n,
            use_tz=outer.use_tz,
        )
        context.template, context.template_name = outer.template, outer.template_name
        context.render_context = RenderContext()
        return nodelist.render(context)

    html = fragments.get(key, render)
    return with_token(html, lambda: outer.get("csrf_token", ""))


def derived(function, *args, **kwargs) -> keys.Derived:
    """`function(*args, **kwargs)`, worked out only when a kept part that shows it is made, and
    named in keys by the function and its arguments. A request among the arguments stands for
    its address: the function may read its scheme and host (to build absolute links), nothing
    else of it."""
    return keys.Derived(function, *args, **kwargs)
