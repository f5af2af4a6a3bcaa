import os

import pytest


@pytest.fixture(autouse=True)
def _note_server(s3twin_server):
    # For the acceptance script: which server process each xdist worker used.
    log = os.environ.get("S3TWIN_WORKER_LOG")
    if log:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(log, "a") as f:
            f.write(f"{worker} {s3twin_server.pid}\n")
