"""The s3twin binary's start-up options: `--seed` with a preset name and with a JSON file,
and a bad seed refusing to start. Each test starts its own server on a free port."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import make_client

BIN = Path(__file__).resolve().parents[3] / "target" / "release" / "s3twin"


def start(*args):
    proc = subprocess.Popen([str(BIN), "--port", "0", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("s3twin listening on "):
            return proc, line.split()[-1]
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"server did not start: {proc.stderr.read()}")


@pytest.fixture
def server_with():
    procs = []

    def run(*args):
        proc, endpoint = start(*args)
        procs.append(proc)
        return endpoint

    yield run
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


def test_seed_preset_at_start(server_with):
    s3 = make_client(server_with("--seed", "invoice-store"))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="invoices")["Contents"]]
    assert len(keys) == 3 and all(k.endswith(".pdf") for k in keys)
    rules = s3.get_bucket_lifecycle_configuration(Bucket="invoices")["Rules"]
    assert rules[0]["Expiration"]["Days"] == 7 and rules[0]["Filter"]["Prefix"] == "tmp/"
    body = s3.get_object(Bucket="invoices", Key=keys[0])
    assert body["ContentType"] == "application/pdf" and body["Body"].read().startswith(b"%PDF")


def test_seed_file_at_start(server_with, tmp_path):
    doc = {"buckets": [{"name": "reports", "objects": [
        {"key": "q1.csv", "body": "a,b\n1,2\n", "contentType": "text/csv", "tags": {"team": "data"}}]}]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(doc))
    s3 = make_client(server_with("--seed", path))
    got = s3.get_object(Bucket="reports", Key="q1.csv")
    assert got["Body"].read() == b"a,b\n1,2\n"
    assert got["ContentType"] == "text/csv"
    assert got["TagCount"] == 1


def test_bad_seed_refuses_to_start(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"buckets": [{"name": "Not_A_Bucket"}]}))
    proc = subprocess.run([str(BIN), "--port", "0", "--seed", str(path)],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0
    assert "Not_A_Bucket" in proc.stderr
