import pytest

from tests.e2e.servers import manage, server_env


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """Static files collected once, as `make serve` and a deployment do."""
    root = tmp_path_factory.mktemp("static")
    manage("collectstatic", "--no-input", "-v0", env=server_env(STATIC_ROOT=str(root)))
    return root
