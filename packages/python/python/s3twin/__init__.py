"""s3twin for Python: start the s3twin binary from test code, one run per test, boto3 bound to it.

    with s3twin.Server() as server:
        run = server.run()
        s3 = run.client()
        s3.create_bucket(Bucket="invoices")
        run.advance_clock("8d")

The pytest plugin (installed with the package) gives fixtures ``s3twin_server``,
``s3twin_run`` and ``s3_client``.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from typing import Any, Dict, Iterable, List, Optional, Union

from ._refusal import (
    ProductionCallRefused,
    looks_like_production_keys,
    refuse_production,
)

__all__ = [
    "Server",
    "Run",
    "AdminError",
    "find_binary",
    "refuse_production",
    "looks_like_production_keys",
    "ProductionCallRefused",
]

_EXE = "s3twin.exe" if os.name == "nt" else "s3twin"
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 5.0
_BANNER = re.compile(r"s3twin listening on (http\S+)")


class AdminError(Exception):
    """An admin route answered with an error status."""

    def __init__(self, method: str, route: str, status: int, body: Any):
        why = body.get("error") if isinstance(body, dict) else body
        super().__init__(f"s3twin: {method} {route} answered {status}: {why}")
        self.status = status
        self.body = body


def find_binary() -> str:
    """The s3twin binary: ``S3TWIN_BINARY``, else the one this wheel installed, else PATH."""
    env = os.environ.get("S3TWIN_BINARY")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise FileNotFoundError(f"s3twin: S3TWIN_BINARY={env} is not an executable file")
    # The wheel puts the binary in the environment's scripts directory, which is on PATH only
    # when the environment is activated.
    candidates = [os.path.join(sysconfig.get_path("scripts"), _EXE)]
    user = sysconfig.get_path("scripts", f"{os.name}_user") if os.name != "nt" else None
    if user:
        candidates.append(os.path.join(user, _EXE))
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    found = shutil.which(_EXE)
    if found:
        return found
    raise FileNotFoundError(
        "s3twin: no s3twin binary found. Looked at 1) the S3TWIN_BINARY environment variable "
        f"(unset), 2) this environment's scripts directory ({candidates[0]}), 3) {_EXE} on PATH. "
        "Reinstall the wheel (pip install s3twin), set S3TWIN_BINARY, or put s3twin on PATH."
    )


def _request(base: str, method: str, route: str, body: Any = None) -> Any:
    data = None
    headers = {}
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["content-type"] = "application/json"
    req = urllib.request.Request(base + route, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            text = res.read().decode()
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text
        raise AdminError(method, route, e.code, parsed) from None
    return json.loads(text) if text else {}


# Servers still running, stopped at interpreter exit. A process that dies without running
# atexit (SIGKILL) still takes its servers down: each watches its stdin (--exit-with-stdin).
_live: "weakref.WeakSet[Server]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        server.stop()


class Server:
    """An s3twin server process, stopped on ``stop()``, on leaving ``with``, or at exit."""

    def __init__(
        self,
        port: int = 0,
        seed: Union[str, Dict[str, Any], None] = None,
        *,
        host: str = "127.0.0.1",
        region: Optional[str] = None,
        strict: bool = False,
        auth: Optional[str] = None,
        binary: Optional[str] = None,
        args: Iterable[str] = (),
    ):
        self.port = port
        self.host = host
        self.seed_doc = seed
        self.region = region
        self.strict = strict
        self.auth = auth
        self.binary = binary
        self.args = list(args)
        self.endpoint: Optional[str] = None
        self._proc: Optional[subprocess.Popen] = None
        self._stderr = None

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc else None

    def start(self) -> "Server":
        if self._proc is not None:
            raise RuntimeError("s3twin: this server is already started")
        binary = self.binary or find_binary()
        argv = [binary, "--port", str(self.port), "--host", self.host, "--exit-with-stdin"]
        if self.region:
            argv += ["--region", self.region]
        if self.strict:
            argv.append("--strict")
        if self.auth:
            argv += ["--auth", self.auth]
        if isinstance(self.seed_doc, str):
            argv += ["--seed", self.seed_doc]
        argv += self.args
        # stderr to a file: a pipe nobody reads would block a chatty server.
        self._stderr = tempfile.TemporaryFile()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        endpoint = self._read_banner(proc)
        if endpoint is None:
            proc.kill()
            proc.wait()
            self._stderr.seek(0)
            err = self._stderr.read().decode(errors="replace").strip()
            raise RuntimeError(f"s3twin: {binary} did not start (exit {proc.returncode}): {err}")
        self._proc = proc
        self.endpoint = endpoint
        self.port = int(urllib.parse.urlsplit(endpoint).port or self.port)
        _live.add(self)
        if isinstance(self.seed_doc, dict):
            self.admin_post("/_s3twin/seed", self.seed_doc)
        return self

    @staticmethod
    def _read_banner(proc: subprocess.Popen) -> Optional[str]:
        found: List[str] = []
        stdout = proc.stdout
        assert stdout is not None

        def read() -> None:
            for raw in stdout:
                if not found:
                    m = _BANNER.search(raw.decode(errors="replace"))
                    if m:
                        found.append(m.group(1))
            # Read to the end, so the server never blocks writing to stdout.

        reader = threading.Thread(target=read, name="s3twin-stdout", daemon=True)
        reader.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if found:
                return found[0]
            if proc.poll() is not None:
                return None
            time.sleep(0.005)
        return None

    def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        self.endpoint = None
        _live.discard(self)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdin:
            proc.stdin.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> "Server":
        return self.start() if self._proc is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def reset(self) -> Any:
        """Empties every run."""
        return self.admin_post("/_s3twin/reset")

    def run(
        self,
        run_id: Optional[str] = None,
        seed: Union[str, Dict[str, Any], None] = None,
        *,
        strict: bool = False,
        chaos: Optional[List[Any]] = None,
        auth: Optional[str] = None,
    ) -> "Run":
        """A new run (an isolated namespace); ``run.delete()`` drops it."""
        body: Dict[str, Any] = {}
        if run_id is not None:
            body["runId"] = run_id
        if seed is not None:
            body["seed"] = seed
        if strict:
            body["strict"] = True
        if chaos is not None:
            body["chaos"] = chaos
        if auth is not None:
            body["auth"] = auth
        return Run(self, self.admin_post("/_s3twin/runs", body))

    def _base(self) -> str:
        if self.endpoint is None:
            raise RuntimeError("s3twin: the server is not started")
        return self.endpoint

    def admin_get(self, route: str) -> Any:
        return _request(self._base(), "GET", route)

    def admin_post(self, route: str, body: Any = None) -> Any:
        return _request(self._base(), "POST", route, body)

    def admin_delete(self, route: str) -> Any:
        return _request(self._base(), "DELETE", route)


class Run:
    """One run on a server: its own buckets, objects, clock, logs and chaos rules."""

    def __init__(self, server: Server, info: Dict[str, Any]):
        self.server = server
        self.run_id: str = info["runId"]
        #: The run's S3 endpoint (``http://HOST:PORT/t/{runId}``), for ``endpoint_url``.
        self.endpoint: str = f"{server.endpoint}/t/{self.run_id}"
        self.access_key_id: str = info["accessKeyId"]
        self.secret_access_key: str = info["secretAccessKey"]
        self.region: str = info["region"]

    def _q(self, route: str, params: Optional[Dict[str, Any]] = None) -> str:
        q = {"runId": self.run_id}
        q.update({k: str(v) for k, v in (params or {}).items() if v is not None})
        return f"{route}?{urllib.parse.urlencode(q)}"

    @property
    def credentials(self) -> Dict[str, str]:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }

    def env(self) -> Dict[str, str]:
        """The AWS_* variables that point a process (aws-cli, a subprocess) at this run."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_S3_FORCE_PATH_STYLE": "true",
        }

    def client(self, allow_production: bool = False, **kwargs: Any) -> Any:
        """A boto3 S3 client for this run, refusing production-looking calls to AWS."""
        import boto3
        from botocore.config import Config

        options: Dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "region_name": self.region,
            "config": Config(s3={"addressing_style": "path"}),
            **self.credentials,
        }
        options.update(kwargs)
        client = boto3.client("s3", **options)
        if not allow_production:
            refuse_production(client)
        return client

    def advance_clock(self, by: str) -> Dict[str, Any]:
        """Moves the run's clock forward ("8d", "36h") and runs what became due."""
        return self.server.admin_post(self._q("/_s3twin/clock"), {"advance": by})

    def set_clock(self, instant: str) -> Dict[str, Any]:
        return self.server.admin_post(self._q("/_s3twin/clock"), {"set": instant})

    def clock(self) -> Dict[str, Any]:
        return self.server.admin_get(self._q("/_s3twin/clock"))

    def seed(self, doc: Union[str, Dict[str, Any]]) -> Dict[str, Any]:
        """Loads a seed document (or preset name) into the run."""
        return self.server.admin_post(self._q("/_s3twin/seed"), doc)

    def reset(self) -> Dict[str, Any]:
        """Empties the run."""
        return self.server.admin_post(self._q("/_s3twin/reset"))

    def presign(self, bucket: str, key: str, method: str = "GET", expires_in: int = 3600) -> str:
        out = self.server.admin_post(
            self._q("/_s3twin/presign"),
            {"method": method, "bucket": bucket, "key": key, "expiresIn": expires_in},
        )
        return out["url"]

    def requests(self, **filters: Any) -> List[Dict[str, Any]]:
        """The run's request log (operation=, status=, errorCode=, since=, limit=)."""
        return self.server.admin_get(self._q("/_s3twin/requests", filters))["entries"]

    def notifications(self, **filters: Any) -> List[Dict[str, Any]]:
        """The run's notification delivery log (bucket=, eventName=, status=, wait=, …)."""
        return self.server.admin_get(self._q("/_s3twin/notifications", filters))["notifications"]

    def delete(self) -> None:
        """Drops the run (nothing if it is already gone)."""
        try:
            self.server.admin_delete(f"/_s3twin/runs/{self.run_id}")
        except AdminError as e:
            if e.status != 404:
                raise

