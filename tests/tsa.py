"""A real Time-Stamp Authority on 127.0.0.1: `openssl ts -reply` behind a small HTTP server, with a CA made here.

``LocalTSA(folder)`` creates a root CA, a TSA certificate it signs (extendedKeyUsage critical
timeStamping, as RFC 3161 requires), a second unrelated root (for "wrong root" tests), and serves
``POST /tsr`` by running ``openssl ts -reply`` on the query it was sent.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

OPENSSL = shutil.which("openssl")

_CONFIG = """
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_tsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _run(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class LocalTSA:
    """A CA, a TSA certificate, and an HTTP server answering timestamp queries on 127.0.0.1."""

    def __init__(self, folder: Path):
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "openssl.cnf").write_text(_CONFIG.format(dir=self.dir))
        (self.dir / "serial").write_text("01\n")
        cnf = str(self.dir / "openssl.cnf")
        for name, cn in (("ca", "archiver test root"), ("other", "an unrelated root")):
            _run("req", "-config", cnf, "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                 "-out", f"{name}.crt", "-days", "3650", "-subj", f"/CN={cn}", "-extensions", "v3_ca", cwd=self.dir)
        _run("req", "-config", cnf, "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
             "-subj", "/CN=archiver test TSA", cwd=self.dir)
        _run("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "tsa.crt", "-days", "3650", "-extfile", cnf, "-extensions", "v3_tsa", cwd=self.dir)
        self.root = self.dir / "ca.crt"
        self.other_root = self.dir / "other.crt"
        self.requests = 0
        self.fail_next = 0  # answer this many requests with 503 first
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsr"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def reply(self, query: bytes) -> bytes:
        """What `openssl ts -reply` answers to a query."""
        with tempfile.TemporaryDirectory(dir=self.dir) as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(query)
            with self._lock:  # openssl ts increments the serial file
                _run("ts", "-reply", "-config", str(self.dir / "openssl.cnf"), "-queryfile", str(q), "-out", str(r),
                     cwd=self.dir)
            return r.read_bytes()

    def _handler(self):
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                tsa.requests += 1
                if tsa.fail_next > 0:
                    tsa.fail_next -= 1
                    self.send_response(503)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    answer = tsa.reply(body)
                except subprocess.CalledProcessError:
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        return Handler

    def stop(self) -> None:
        """Shut the server down."""
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def tsa(tmp_path_factory):
    """One local TSA for the whole run (making its keys takes a second)."""
    if OPENSSL is None:
        pytest.skip("openssl not found: the local Time-Stamp Authority needs it (.ci/run installs it)")
    server = LocalTSA(tmp_path_factory.mktemp("tsa"))
    yield server
    server.stop()
