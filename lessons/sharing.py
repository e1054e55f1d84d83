"""Pages and parts of pages that are the same for every reader a key names: rendered once,
kept in the worker (lessons/pages.py's memo, dropped when content changes), in the language
of the request.

A key must name everything the HTML depends on besides the content and the language: a
lesson's id, the access decision's outcome, whether the reader is logged in or staff, the
address. Nothing personal may be kept: no message, no reader's own data.

The one personal value kept HTML may hold is the CSRF token: it is rendered with a marker in
its place, and each request's own token replaces the marker on the way out. So kept HTML
never holds a real token, and a request whose page shows none does not ask for one.
"""

import secrets
from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import RequestContext
from django.template.loader import get_template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from lessons import pages

# Random for each process, so no text from an author or a reader can contain it.
CSRF_MARKER = f"csrf-{secrets.token_hex(16)}"


def with_token(html: str, token: Callable[[], object]) -> SafeString:
    """Kept HTML with the request's own CSRF token (`token()`, asked only when needed)."""
    if CSRF_MARKER in html:
        html = html.replace(CSRF_MARKER, str(token() or ""))
    return mark_safe(html)  # noqa: S308 (rendered, and escaped, by the template engine)


def part(key: tuple, render) -> str:
    """The HTML `render()` gives for `key` in this language, kept. `render` must render with
    CSRF_MARKER as its token."""
    return pages.fragments.get(("part", translation.get_language(), *key), render)


def render_page(request, template_name: str, context: dict, key: tuple) -> HttpResponse:
    """`render()` for a page that is the same for every reader `key` names, at this address.
    While a message waits for the reader the page is rendered for them alone."""
    if len(get_messages(request)):
        return render(request, template_name, context)

    def render_kept():
        template = get_template(template_name).template
        request_context = RequestContext(request, context)
        with request_context.push(csrf_token=CSRF_MARKER):
            return template.render(request_context)

    address = (request.scheme, request.get_host(), request.get_full_path())
    html = part(("page", template_name, *address, *key), render_kept)
    return HttpResponse(with_token(html, lambda: get_token(request)))
