"""Shared fixtures for the s3twin real-client (boto3 / aws-cli) tests.

The server under test is given by S3TWIN_ENDPOINT (run.sh starts one when it
is unset).  Every test gets fresh, uuid-named buckets so tests can run in
parallel; tests that need a clean namespace use a private run
(``EP/t/<uuid>``).
"""

import os
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))

import s3util  # noqa: E402

# ---------------------------------------------------------------------------
# Environment isolation: nothing from the developer's ~/.aws or AWS_* env may
# change what the clients send.
# ---------------------------------------------------------------------------
for _k in list(os.environ):
    if _k.startswith("AWS_"):
        del os.environ[_k]

_CFG_DIR = Path(tempfile.mkdtemp(prefix="s3twin-pytest-aws-"))
(_CFG_DIR / "config").write_text(
    "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"
)
(_CFG_DIR / "credentials").write_text(
    "[default]\naws_access_key_id = parlel\naws_secret_access_key = parlel\n"
)
os.environ["AWS_CONFIG_FILE"] = str(_CFG_DIR / "config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(_CFG_DIR / "credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

ENDPOINT = os.environ.get("S3TWIN_ENDPOINT", "").rstrip("/")


def pytest_configure(config):
    if not ENDPOINT:
        raise pytest.UsageError(
            "S3TWIN_ENDPOINT is not set; run tests/clients/python/run.sh "
            "or export S3TWIN_ENDPOINT=http://127.0.0.1:PORT"
        )


def new_bucket_name(prefix="s3t"):
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def make_client(endpoint=None, addressing_style="path", **config_kwargs):
    cfg = {"s3": {"addressing_style": addressing_style},
           "retries": {"max_attempts": 1, "mode": "standard"},
           "connect_timeout": 10, "read_timeout": 120}
    cfg.update(config_kwargs)
    return boto3.client(
        "s3",
        endpoint_url=endpoint or ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="parlel",
        aws_secret_access_key="parlel",
        config=Config(**cfg),
    )


def empty_and_delete_bucket(client, bucket):
    """Best-effort cleanup; never fails a test."""
    try:
        token = None
        while True:
            kw = {"Bucket": bucket}
            if token:
                kw["ContinuationToken"] = token
            resp = client.list_objects_v2(**kw)
            objs = [{"Key": o["Key"]} for o in resp.get("Contents", [])]
            if objs:
                client.delete_objects(Bucket=bucket, Delete={"Objects": objs, "Quiet": True})
            if not resp.get("IsTruncated"):
                break
            token = resp.get("NextContinuationToken")
            if not token:
                break
    except Exception:
        pass
    try:
        client.delete_bucket(Bucket=bucket)
    except Exception:
        pass


def error_of(excinfo):
    """(code, http status, full error dict) of a botocore ClientError."""
    err = excinfo.value
    assert isinstance(err, ClientError), err
    return (
        err.response["Error"].get("Code"),
        err.response["ResponseMetadata"]["HTTPStatusCode"],
        err.response["Error"],
    )


@pytest.fixture(scope="session")
def endpoint():
    return ENDPOINT


@pytest.fixture
def s3():
    return make_client()


@pytest.fixture
def s3_novalidate():
    """Client with botocore's client-side parameter validation turned off."""
    return make_client(parameter_validation=False)


@pytest.fixture
def client_factory():
    return make_client


@pytest.fixture
def bucket(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete_bucket(s3, name)


@pytest.fixture
def bucket_factory(s3):
    created = []

    def _make(prefix="s3t", client=None):
        c = client or s3
        name = new_bucket_name(prefix)
        c.create_bucket(Bucket=name)
        created.append((c, name))
        return name

    yield _make
    for c, name in created:
        empty_and_delete_bucket(c, name)


@pytest.fixture
def run_factory(endpoint):
    """Create private runs: returns (run_id, run_endpoint); resets them after."""
    runs = []

    def _make(prefix="r"):
        run_id = f"{prefix}-{uuid.uuid4().hex[:16]}"
        runs.append(run_id)
        return run_id, f"{endpoint}/t/{run_id}"

    yield _make
    for run_id in runs:
        try:
            s3util.admin(endpoint, "POST", f"/_s3twin/reset?runId={run_id}")
        except Exception:
            pass


@pytest.fixture
def run_s3(run_factory):
    """A client bound to a fresh private run (empty namespace)."""
    _, ep = run_factory()
    c = make_client(ep)
    c._s3twin_endpoint = ep
    return c


@pytest.fixture
def raw_responses():
    """Records raw HTTP responses (status, headers, body) seen by clients.

    Usage: ``rec = raw_responses(client)`` then inspect ``rec[-1]``.
    """

    def _attach(client):
        records = []

        def _hook(response_dict, **kwargs):
            body = response_dict.get("body")
            records.append({
                "status": response_dict.get("status_code"),
                "headers": {k.lower(): v for k, v in response_dict.get("headers", {}).items()},
                "body": body if isinstance(body, (bytes, bytearray)) else b"",
            })

        client.meta.events.register("before-parse.s3.*", _hook)
        return records

    return _attach


# ---------------------------------------------------------------------------
# Virtual-hosted style: {bucket}.localhost must resolve to 127.0.0.1.
# ---------------------------------------------------------------------------

@pytest.fixture
def localhost_wildcard_dns(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


# ---------------------------------------------------------------------------
# aws-cli helper
# ---------------------------------------------------------------------------

AWS_BIN = str(Path(sys.executable).parent / "aws")


class AwsCli:
    def __init__(self, endpoint):
        self.endpoint = endpoint

    def __call__(self, *args, check=True, endpoint=None, cwd=None, timeout=300, env=None):
        extra, env = env or {}, dict(os.environ)
        env.update({
            "AWS_ACCESS_KEY_ID": "parlel",
            "AWS_SECRET_ACCESS_KEY": "parlel",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "1",
        })
        env.update(extra)
        cmd = [AWS_BIN, "--endpoint-url", endpoint or self.endpoint, *map(str, args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              cwd=cwd, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"aws {' '.join(map(str, args))} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc


@pytest.fixture
def aws(endpoint):
    return AwsCli(endpoint)
