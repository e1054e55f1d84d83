from django.conf import settings


class NoIndexMiddleware:
    """Pages that are nobody's to find in a search engine say so in a header, whatever they
    are (HTML, a feed, a redirect): the admin, accounts, "My access" and the PIN pages, a
    reader's private feed, and search results. Views mark others (drafts, previews) themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = (f"/{settings.ADMIN_PATH}", "/accounts/", "/access/", "/search/")

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.prefixes):
            response.setdefault("X-Robots-Tag", "noindex")
        return response
