"""Chaos rules (/_s3twin/chaos) and the request log (/_s3twin/requests) with boto3.

boto3's default retry mode ("legacy", 5 attempts) retries 503 SlowDown, as it
does against AWS (botocore's _retry.json: "throttling" codes and status 503),
so a rule that refuses a PutObject twice ends in a stored object; the request
log shows the two refused attempts and the success.
"""

import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import s3util
from conftest import error_of, make_client, new_bucket_name


def admin(endpoint, method, path, body=None):
    return s3util.admin(endpoint, method, path, body=body)


@pytest.fixture
def run(endpoint):
    """A fresh run created over the admin API; returns a factory taking extra fields."""
    made = []

    def _make(**fields):
        run_id = f"chaos-{uuid.uuid4().hex[:16]}"
        resp = admin(endpoint, "POST", "/_s3twin/runs", {"runId": run_id, **fields})
        assert resp.status == 201, resp
        made.append(run_id)
        return run_id, f"{endpoint}/t/{run_id}"

    yield _make
    for run_id in made:
        admin(endpoint, "DELETE", f"/_s3twin/runs/{run_id}")


def default_retry_client(ep):
    """boto3 as users create it: no retry settings of our own."""
    return boto3.client(
        "s3",
        endpoint_url=ep,
        region_name="us-east-1",
        aws_access_key_id="parlel",
        aws_secret_access_key="parlel",
        config=Config(s3={"addressing_style": "path"}),
    )


def log(endpoint, run_id, query=""):
    resp = admin(endpoint, "GET", f"/_s3twin/requests?runId={run_id}{query}")
    assert resp.status == 200, resp
    return resp.json()["entries"]


def rules(endpoint, run_id):
    resp = admin(endpoint, "GET", f"/_s3twin/chaos?runId={run_id}")
    assert resp.status == 200, resp
    return resp.json()["rules"]


def test_default_retries_survive_two_slowdowns_and_the_log_shows_them(endpoint, run):
    run_id, ep = run()
    s3 = default_retry_client(ep)
    bucket = new_bucket_name("retry")
    s3.create_bucket(Bucket=bucket)
    resp = admin(endpoint, "POST", f"/_s3twin/chaos?runId={run_id}", {
        "match": {"operations": ["PutObject"]},
        "action": {"type": "error", "code": "SlowDown"},
        "count": 2,
    })
    assert resp.status == 201, resp
    rule_id = resp.json()["added"][0]["id"]

    out = s3.put_object(Bucket=bucket, Key="k", Body=b"survived")
    assert out["ResponseMetadata"]["RetryAttempts"] == 2
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"survived"

    puts = log(endpoint, run_id, "&operation=PutObject")
    assert [(e["status"], e["errorCode"]) for e in puts] == [
        (503, "SlowDown"), (503, "SlowDown"), (200, None)]
    assert [e["chaos"] for e in puts] == [
        [{"ruleId": rule_id, "action": "error"}]] * 2 + [[]]
    assert puts[2]["requestId"] == out["ResponseMetadata"]["RequestId"]
    assert all(e["bucket"] == bucket and e["key"] == "k" for e in puts)
    assert puts[2]["bytesIn"] >= len(b"survived")
    refused = log(endpoint, run_id, "&status=503&errorCode=SlowDown")
    assert len(refused) == 2
    assert rules(endpoint, run_id)[0]["hits"] == 2


def test_slow_put_preset_adds_one_second_to_puts_only(endpoint, run):
    run_id, ep = run(chaos=["slow_put"])
    s3 = make_client(ep)
    bucket = new_bucket_name("slow")
    s3.create_bucket(Bucket=bucket)
    start = time.monotonic()
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert time.monotonic() - start >= 1.0
    start = time.monotonic()
    s3.get_object(Bucket=bucket, Key="k")["Body"].read()
    assert time.monotonic() - start < 0.9
    entry = log(endpoint, run_id, "&operation=PutObject")[0]
    assert entry["durationMs"] >= 1000
    assert entry["chaos"][0]["action"] == "latency"


def test_503_restore_preset_makes_restore_fail(endpoint, run):
    run_id, ep = run()
    resp = admin(endpoint, "POST", f"/_s3twin/chaos?runId={run_id}", {"preset": "503_restore"})
    assert resp.status == 201, resp
    s3 = make_client(ep)  # one attempt: the refusal itself is what we look at
    bucket = new_bucket_name("restore")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="GLACIER")
    with pytest.raises(ClientError) as exc:
        s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1})
    code, status, err = error_of(exc)
    assert (code, status) == ("ServiceUnavailable", 503)
    assert err["Message"] == "Please reduce your request rate."
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="cold")


def _bucket_expiring_in_two_days(s3):
    bucket = new_bucket_name("early")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "two-days", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Expiration": {"Days": 2}}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    return bucket


def test_lifecycle_early_delete_expires_before_the_due_day(endpoint, run):
    early_id, early_ep = run(chaos=["lifecycle_early_delete"])
    control_id, control_ep = run()
    early, control = make_client(early_ep), make_client(control_ep)
    eb = _bucket_expiring_in_two_days(early)
    cb = _bucket_expiring_in_two_days(control)
    for run_id in (early_id, control_id):
        resp = admin(endpoint, "POST", f"/_s3twin/clock?runId={run_id}", {"advance": "2d"})
        assert resp.status == 200, resp
    # Due at the midnight after creation + 2 days: not yet, except a day early.
    with pytest.raises(ClientError) as exc:
        early.head_object(Bucket=eb, Key="k")
    assert error_of(exc)[1] == 404
    control.head_object(Bucket=cb, Key="k")


@pytest.mark.parametrize("body", [
    {"preset": "unknown_preset"},
    {"action": {"type": "error"}, "probability": 1.5},
    {"action": {"type": "explode"}},
    {"match": {"operations": ["PutObject"]}},
    b'{"match": ',
])
def test_bad_rules_are_400_json_and_change_nothing(endpoint, run, body):
    run_id, _ = run(chaos=["slow_put"])
    before = rules(endpoint, run_id)
    resp = admin(endpoint, "POST", f"/_s3twin/chaos?runId={run_id}", body)
    assert resp.status == 400, resp
    assert resp.headers["content-type"] == "application/json"
    assert isinstance(resp.json()["error"], str)
    assert rules(endpoint, run_id) == before


def test_runs_are_independent_and_reset_clears_log_and_rules(endpoint, run):
    a_id, a_ep = run()
    b_id, b_ep = run()
    admin(endpoint, "POST", f"/_s3twin/chaos?runId={a_id}", {
        "match": {"operations": ["CreateBucket"]}, "action": {"type": "error", "code": "InternalError"}})
    a, b = make_client(a_ep), make_client(b_ep)
    name = new_bucket_name("indep")
    with pytest.raises(ClientError) as exc:
        a.create_bucket(Bucket=name)
    assert error_of(exc)[:2] == ("InternalError", 500)
    b.create_bucket(Bucket=name)
    assert rules(endpoint, b_id) == []
    s3_ops = lambda run_id: [(e["operation"], e["status"]) for e in log(endpoint, run_id)
                             if e["operation"] != "Admin"]
    assert s3_ops(b_id) == [("CreateBucket", 200)]
    # (make_client allows one retry: both attempts were refused.)
    assert set(s3_ops(a_id)) == {("CreateBucket", 500)}

    assert admin(endpoint, "POST", f"/_s3twin/reset?runId={a_id}").status == 200
    assert log(endpoint, a_id) == []
    assert rules(endpoint, a_id) == []
    a.create_bucket(Bucket=name)
    assert s3_ops(a_id) == [("CreateBucket", 200)]  # the reset run has no rule left
    assert s3_ops(b_id) == [("CreateBucket", 200)]
