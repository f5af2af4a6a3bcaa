"""pytest plugin (entry point ``pytest11``): an s3twin server per session and xdist worker, a
fresh run per test, and boto3 bound to it.

    def test_upload(s3_client):
        s3_client.create_bucket(Bucket="invoices")

    @pytest.mark.s3twin(seed="invoice-store")
    def test_seeded(s3twin_run, s3_client):
        s3twin_run.advance_clock("8d")
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from . import Run, Server


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("s3twin")
    group.addoption(
        "--s3twin-binary",
        default=None,
        help="the s3twin binary (default: S3TWIN_BINARY, the installed one, then PATH)",
    )
    parser.addini("s3twin_args", "extra s3twin command-line arguments", type="args", default=[])


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers",
        "s3twin(seed=None, strict=False, chaos=None, auth=None): options of the test's s3twin run",
    )


@pytest.fixture(scope="session")
def s3twin_server(request: Any) -> Iterator[Server]:
    """One s3twin server per test session; with pytest-xdist, one per worker (each worker is a
    session of its own)."""
    server = Server(
        port=0,
        binary=request.config.getoption("s3twin_binary"),
        args=request.config.getini("s3twin_args"),
    )
    with server:
        yield server


def _run_id(request: Any) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)[:32].strip("-.") or "test"
    # A counter keeps ids unique when a test name repeats (parametrized ids cut short).
    _run_id.counter += 1
    return f"{worker}-{_run_id.counter}-{name}"[:64]


_run_id.counter = 0  # type: ignore[attr-defined]


@pytest.fixture
def s3twin_run(request: Any, s3twin_server: Server) -> Iterator[Run]:
    """A fresh run for the test (options from ``@pytest.mark.s3twin(...)``), dropped after it."""
    marker = request.node.get_closest_marker("s3twin")
    options = dict(marker.kwargs) if marker else {}
    run = s3twin_server.run(run_id=_run_id(request), **options)
    try:
        yield run
    finally:
        run.delete()


@pytest.fixture
def s3_client(s3twin_run: Run) -> Any:
    """A boto3 S3 client bound to the test's run (production-looking AWS calls refused)."""
    return s3twin_run.client()
