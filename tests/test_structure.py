"""The shape of the house: dependencies point one way."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("lessons", ("access", "accounts", "payments")),
        ("access", ("accounts", "payments")),
        ("accounts", ("payments",)),
        ("config", ("payments",)),
    ],
)
def test_apps_import_only_downstream(package, forbidden):
    """lessons/ knows nothing of PINs or accounts: the gate reaches its views as
    request.access and its templates through access/'s template tags. Nothing imports
    payments/: it issues PINs through access/'s services, and shows its pay button through
    one include in access/'s templates."""
    offending = {
        path: sorted(n for n in names if n.split(".")[0] in forbidden)
        for path, names in imported_modules(package).items()
    }
    assert {path: names for path, names in offending.items() if names} == {}
