from access import services


def issue(series, **options) -> str:
    """Issue one PIN and return its plaintext."""
    return services.issue_pins(series=series, **options)[0].pin


def redeem_url():
    return "/access/redeem/"
