"""nginx started from docs/samples/nginx.conf, for tests of the front.

The sample is the configuration: `render()` puts this test's ports, folders, host name and a
certificate made now in place of the sample's, and drops the brotli lines only when this nginx
cannot load the brotli modules. Each substitution must find its text in the sample, so the
sample cannot drift from what is tested. nginx runs in a temporary prefix, on free loopback
ports, as an unprivileged user (`nobody` when the tests run as root).

Tests skip without nginx, unless REQUIRE_NGINX=1 (as in CI), which turns the skip into a
failure.
"""

import contextlib
import gzip
import http.client
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.servers import PUBLIC_HOST, ROOT, free_port

SAMPLE = ROOT / "docs" / "samples" / "nginx.conf"
BROTLI_MARK = "# brotli"
BROTLI_MODULES = ("ngx_http_brotli_filter_module.so", "ngx_http_brotli_static_module.so")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def require_nginx() -> str:
    found = nginx_binary()
    if found:
        return found
    reason = "needs nginx (apt-get install nginx libnginx-mod-http-brotli-filter …-static)"
    if os.environ.get("REQUIRE_NGINX") == "1":
        pytest.fail(f"REQUIRE_NGINX=1 but this test {reason}")
    pytest.skip(reason)


def _build_paths(binary: str) -> dict[str, Path]:
    """nginx's own folders, as it was built (`nginx -V`)."""
    output = subprocess.run([binary, "-V"], capture_output=True, text=True).stderr
    found = dict(re.findall(r"--(conf-path|modules-path)=(\S+)", output))
    return {
        "conf": Path(found.get("conf-path", "/etc/nginx/nginx.conf")).parent,
        "modules": Path(found.get("modules-path", "/usr/lib/nginx/modules")),
    }


def render(sample: str, substitutions: dict[str, str], *, brotli: bool) -> str:
    """The sample with each key replaced by its value (each key must be in it)."""
    for old, new in substitutions.items():
        assert old in sample, f"{old!r} is no longer in {SAMPLE.name}: update tests/e2e/front.py"
        sample = sample.replace(old, new)
    if not brotli:
        sample = "\n".join(
            line for line in sample.splitlines() if not line.rstrip().endswith(BROTLI_MARK)
        )
    return sample


def make_certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for `host`, made now, valid for two days."""
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [shutil.which("openssl") or "/usr/bin/openssl", "req", "-x509",
         "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class Front:
    """nginx with the sample configuration in front of `upstreams` ("127.0.0.1:port", the
    sample's two app servers in order), serving `static_root` and `media_root`; stopped on
    exit. `https` is its TLS port, `http` its plain one."""

    def __init__(self, *, upstreams: list[str], static_root: Path, media_root: Path,
                 admin_path: str = "admin/"):  # fmt: skip
        self.binary = require_nginx()
        built = _build_paths(self.binary)
        self.prefix = Path(tempfile.mkdtemp(prefix="lessons-front-"))
        self.https, self.http = free_port(), free_port()
        self.cert, key = make_certificate(self.prefix, PUBLIC_HOST)
        # The unprivileged user reads its own copy of the files it serves.
        static, media = self.prefix / "static", self.prefix / "media"
        shutil.copytree(static_root, static)
        if media_root.exists():
            shutil.copytree(media_root, media)
        else:
            media.mkdir()
        modules = [built["modules"] / name for name in BROTLI_MODULES]
        self.brotli = all(m.exists() for m in modules) and self._loads(modules, built)
        site = render(
            SAMPLE.read_text(),
            {
                "/etc/letsencrypt/live/lessons.example.com/fullchain.pem": str(self.cert),
                "/etc/letsencrypt/live/lessons.example.com/privkey.pem": str(key),
                "lessons.example.com": PUBLIC_HOST,
                "listen 443": f"listen 127.0.0.1:{self.https}",
                "listen 80": f"listen 127.0.0.1:{self.http}",
                "return 301 https://$host$request_uri;": (
                    f"return 301 https://$host:{self.https}$request_uri;"
                ),
                "10.0.0.11:8000": upstreams[0],
                "10.0.0.12:8000": upstreams[1],
                "/var/cache/nginx/lessons": str(self.prefix / "cache"),
                "/srv/lessons/staticfiles/": f"{static}/",
                "/srv/lessons-media/": f"{media}/",
                "/backstage-change-me/": f"/{admin_path}",
            },
            brotli=self.brotli,
        )
        (self.prefix / "site.conf").write_text(site)
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(self._main(built, modules if self.brotli else []))
        self._hand_over()
        self.log = (self.prefix / "stderr.log").open("wb")
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(self.conf), "-e", "stderr",
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=self.log, **self._as_user(),
        )  # fmt: skip
        self._wait()

    def _main(self, built, modules) -> str:
        """Debian's /etc/nginx/nginx.conf around the site file, with this prefix's paths (so
        the sample is checked against what it is included in on a Debian server)."""
        p = self.prefix
        loads = "".join(f"load_module {m};\n" for m in modules)
        return f"""{loads}pid {p}/nginx.pid;
worker_processes 1;
events {{ worker_connections 768; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include {built["conf"]}/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    gzip on;
    access_log {p}/access.log;
    client_body_temp_path {p}/temp/body;
    proxy_temp_path {p}/temp/proxy;
    fastcgi_temp_path {p}/temp/fastcgi;
    uwsgi_temp_path {p}/temp/uwsgi;
    scgi_temp_path {p}/temp/scgi;
    include {p}/site.conf;
}}
"""

    def _loads(self, modules, built) -> bool:
        """Whether this nginx loads the brotli modules (a module built for another nginx
        does not)."""
        with tempfile.TemporaryDirectory() as folder:
            conf = Path(folder) / "test.conf"
            loads = "".join(f"load_module {m};\n" for m in modules)
            conf.write_text(f"{loads}pid {folder}/p;\nevents {{}}\nhttp {{ brotli on; }}\n")
            result = subprocess.run(
                [self.binary, "-t", "-p", folder, "-c", str(conf), "-e", "stderr"],
                capture_output=True,
            )
            return result.returncode == 0

    def _as_user(self) -> dict:
        return {"user": "nobody", "group": "nogroup"} if os.geteuid() == 0 else {}

    def _hand_over(self) -> None:
        (self.prefix / "temp").mkdir()
        if os.geteuid() != 0:
            return
        nobody = pwd.getpwnam("nobody")
        for folder, _, files in os.walk(self.prefix):
            for name in [folder, *(os.path.join(folder, f) for f in files)]:
                os.chown(name, nobody.pw_uid, nobody.pw_gid)

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.https), timeout=1).close()
                return
            time.sleep(0.05)
        errors = self.errors()
        self.stop()
        raise RuntimeError(f"nginx did not start:\n{errors}")

    def errors(self) -> str:
        return (self.prefix / "stderr.log").read_text(errors="replace")[-3000:]

    def access_log(self) -> str:
        return (self.prefix / "access.log").read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()  # nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def tls_context(self, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.cert))
        context.set_alpn_protocols(list(alpn))
        return context

    def client(self, **kwargs) -> "Client":
        return Client(front=self, **kwargs)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes  # as sent (compressed when Content-Encoding says so)

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    @property
    def text(self) -> str:
        body = self.body
        if self.header("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return body.decode(errors="replace")


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS to nginx's loopback port, under the site's host name (SNI, certificate)."""

    def __init__(self, port: int, context: ssl.SSLContext, timeout: float):
        super().__init__(PUBLIC_HOST, port, context=context, timeout=timeout)

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=PUBLIC_HOST)


@dataclass
class Client:
    """A browser's requests over HTTPS through the front, with its cookies (name: value).
    With `app_port` instead, straight to an app server, as nginx would send them."""

    front: Front | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 15
    app_port: int = 0

    def _connection(self) -> tuple[http.client.HTTPConnection, dict]:
        if self.app_port:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.app_port, timeout=self.timeout
            )
            return connection, {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https"}
        return _TLSConnection(self.front.https, self.front.tls_context(), self.timeout), {}

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict | None = None) -> Response:  # fmt: skip
        connection, sent = self._connection()
        sent = {"Accept-Encoding": "identity", **sent, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.partition(";")[0]
            if "max-age=0" in header.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, path: str, **headers) -> Response:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, data: dict, **headers) -> Response:
        """POST `data` with the CSRF token of the page at `path`, as its form does."""
        from urllib.parse import urlencode

        page = self.get(path).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        body = urlencode({**data, "csrfmiddlewaretoken": token[1] if token else ""}).encode()
        return self.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"https://{PUBLIC_HOST}",
                "Referer": f"https://{PUBLIC_HOST}{path}",
                **headers,
            },
        )
