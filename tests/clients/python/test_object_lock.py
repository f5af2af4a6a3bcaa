"""Object Lock on the run's clock, through boto3 (and aws-cli for the retention calls).

Every test works in a private run (``EP/t/<uuid>``) whose clock it advances through the admin
API.  Expected behaviour is AWS's (S3 User Guide "Locking objects with Object Lock", the API
reference of Put/GetObjectRetention and Put/GetObjectLegalHold, and responses recorded against
AWS):

* deleting a locked version -> 403 AccessDenied "Access Denied because object protected by
  object lock." (DeleteObjects: a per-key Error with that code and message); a DELETE without
  a version id adds a delete marker;
* GOVERNANCE gives way to x-amz-bypass-governance-retention; COMPLIANCE can only be extended;
  a legal hold blocks deletion whatever the retention;
* lock parameters on a bucket without Object Lock -> 400 InvalidRequest "Bucket is missing
  Object Lock Configuration"; retention / legal hold never set -> 404
  NoSuchObjectLockConfiguration "The specified object does not have a ObjectLock
  configuration"; mode without date -> 400 InvalidArgument.
"""

import json
import subprocess
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import ENDPOINT, error_of, make_client

UTC = timezone.utc
LOCKED = "Access Denied because object protected by object lock."


def utcnow():
    return datetime.now(UTC)


@pytest.fixture
def run():
    """A private run: (run id, boto3 client for it)."""
    run_id = f"lock-{uuid.uuid4().hex[:16]}"
    s3 = make_client(endpoint=f"{ENDPOINT}/t/{run_id}")
    s3.list_buckets()  # the run exists from its first request
    yield run_id, s3
    req = urllib.request.Request(f"{ENDPOINT}/_s3twin/runs/{run_id}", method="DELETE")
    try:
        urllib.request.urlopen(req, timeout=30).read()
    except Exception:
        pass


def advance(run_id, by):
    req = urllib.request.Request(
        f"{ENDPOINT}/_s3twin/clock?runId={run_id}",
        data=json.dumps({"advance": by}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.status == 200
        return json.loads(r.read())


def lock_bucket(s3, name, default=None):
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    if default:
        mode, days = default
        s3.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
            },
        )
    return name


def assert_locked(call):
    with pytest.raises(ClientError) as e:
        call()
    code, status, err = error_of(e)
    assert (code, status, err.get("Message")) == ("AccessDenied", 403, LOCKED)


def test_default_retention_applied_and_released_by_the_clock(run):
    run_id, s3 = run
    lock_bucket(s3, "vault", default=("COMPLIANCE", 30))
    put = s3.put_object(Bucket="vault", Key="report.pdf", Body=b"%PDF")
    v = put["VersionId"]
    head = s3.head_object(Bucket="vault", Key="report.pdf")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert abs(head["ObjectLockRetainUntilDate"] - (head["LastModified"] + timedelta(days=30))) <= timedelta(seconds=2)
    got = s3.get_object_retention(Bucket="vault", Key="report.pdf", VersionId=v)
    assert got["Retention"]["Mode"] == "COMPLIANCE"

    assert_locked(lambda: s3.delete_object(Bucket="vault", Key="report.pdf", VersionId=v))
    assert_locked(lambda: s3.delete_object(
        Bucket="vault", Key="report.pdf", VersionId=v, BypassGovernanceRetention=True))
    marker = s3.delete_object(Bucket="vault", Key="report.pdf")
    assert marker["DeleteMarker"] is True

    advance(run_id, "31d")
    s3.delete_object(Bucket="vault", Key="report.pdf", VersionId=v)
    versions = s3.list_object_versions(Bucket="vault")
    assert [x["VersionId"] for x in versions.get("Versions", [])] == []


def test_retention_and_legal_hold_round_trip(run):
    _, s3 = run
    lock_bucket(s3, "docs")
    until = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    v = s3.put_object(
        Bucket="docs", Key="a.txt", Body=b"a",
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until,
    )["VersionId"]
    got = s3.get_object_retention(Bucket="docs", Key="a.txt", VersionId=v)["Retention"]
    assert got == {"Mode": "GOVERNANCE", "RetainUntilDate": until}

    with pytest.raises(ClientError) as e:
        s3.get_object_legal_hold(Bucket="docs", Key="a.txt", VersionId=v)
    code, status, err = error_of(e)
    assert (code, status) == ("NoSuchObjectLockConfiguration", 404)
    assert err["Message"] == "The specified object does not have a ObjectLock configuration"

    s3.put_object_legal_hold(Bucket="docs", Key="a.txt", VersionId=v, LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket="docs", Key="a.txt")["LegalHold"] == {"Status": "ON"}
    obj = s3.get_object(Bucket="docs", Key="a.txt")
    assert obj["ObjectLockLegalHoldStatus"] == "ON"
    assert obj["ObjectLockMode"] == "GOVERNANCE"
    assert obj["ObjectLockRetainUntilDate"] == until
    s3.put_object_legal_hold(Bucket="docs", Key="a.txt", VersionId=v, LegalHold={"Status": "OFF"})
    assert s3.head_object(Bucket="docs", Key="a.txt")["ObjectLockLegalHoldStatus"] == "OFF"


def test_governance_bypass(run):
    _, s3 = run
    lock_bucket(s3, "gov", default=("GOVERNANCE", 10))
    v = s3.put_object(Bucket="gov", Key="k", Body=b"x")["VersionId"]
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": utcnow() + timedelta(days=2)}
    assert_locked(lambda: s3.put_object_retention(
        Bucket="gov", Key="k", VersionId=v, Retention=shorter))
    s3.put_object_retention(
        Bucket="gov", Key="k", VersionId=v, Retention=shorter, BypassGovernanceRetention=True)
    assert_locked(lambda: s3.delete_object(Bucket="gov", Key="k", VersionId=v))
    s3.delete_object(Bucket="gov", Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket="gov")


def test_compliance_can_only_be_extended(run):
    run_id, s3 = run
    lock_bucket(s3, "comp")
    v = s3.put_object(Bucket="comp", Key="k", Body=b"x")["VersionId"]
    base = utcnow() + timedelta(days=3)
    s3.put_object_retention(Bucket="comp", Key="k", VersionId=v,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": base})
    for retention in (
        {"Mode": "COMPLIANCE", "RetainUntilDate": base - timedelta(days=1)},
        {"Mode": "GOVERNANCE", "RetainUntilDate": base + timedelta(days=1)},
        {},
    ):
        assert_locked(lambda: s3.put_object_retention(
            Bucket="comp", Key="k", VersionId=v, Retention=retention,
            BypassGovernanceRetention=True))
    s3.put_object_retention(Bucket="comp", Key="k", VersionId=v,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": base + timedelta(days=2)})
    advance(run_id, "4d")
    assert_locked(lambda: s3.delete_object(Bucket="comp", Key="k", VersionId=v))
    advance(run_id, "2d")
    s3.delete_object(Bucket="comp", Key="k", VersionId=v)


def test_legal_hold_blocks_deletion_whatever_the_retention(run):
    run_id, s3 = run
    lock_bucket(s3, "held")
    v = s3.put_object(Bucket="held", Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert_locked(lambda: s3.delete_object(
        Bucket="held", Key="k", VersionId=v, BypassGovernanceRetention=True))
    advance(run_id, "3650d")
    assert_locked(lambda: s3.delete_object(Bucket="held", Key="k", VersionId=v))
    s3.put_object_legal_hold(Bucket="held", Key="k", VersionId=v, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket="held", Key="k", VersionId=v)


def test_delete_objects_reports_locked_versions_per_key(run):
    _, s3 = run
    lock_bucket(s3, "batch")
    free = s3.put_object(Bucket="batch", Key="free", Body=b"f")["VersionId"]
    kept = s3.put_object(
        Bucket="batch", Key="kept", Body=b"k", ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=utcnow() + timedelta(days=1),
    )["VersionId"]
    out = s3.delete_objects(Bucket="batch", Delete={"Objects": [
        {"Key": "free", "VersionId": free}, {"Key": "kept", "VersionId": kept}]})
    assert [d["Key"] for d in out["Deleted"]] == ["free"]
    assert out["Errors"] == [{"Key": "kept", "VersionId": kept, "Code": "AccessDenied",
                              "Message": LOCKED}]
    # With the bypass the GOVERNANCE version goes.
    out = s3.delete_objects(Bucket="batch", BypassGovernanceRetention=True,
                            Delete={"Objects": [{"Key": "kept", "VersionId": kept}]})
    assert "Errors" not in out and [d["VersionId"] for d in out["Deleted"]] == [kept]


def test_lifecycle_and_lock(run):
    run_id, s3 = run
    lock_bucket(s3, "logs", default=("GOVERNANCE", 10))
    s3.put_bucket_lifecycle_configuration(Bucket="logs", LifecycleConfiguration={"Rules": [{
        "ID": "short", "Status": "Enabled", "Filter": {"Prefix": ""},
        "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    v1 = s3.put_object(Bucket="logs", Key="app.log", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket="logs", Key="app.log", Body=b"2")["VersionId"]
    advance(run_id, "3d")
    listing = s3.list_object_versions(Bucket="logs")
    # The locked current version expired into a delete marker; no locked version was removed.
    assert sorted(x["VersionId"] for x in listing["Versions"]) == sorted([v1, v2])
    assert len(listing["DeleteMarkers"]) == 1 and listing["DeleteMarkers"][0]["IsLatest"]
    report = advance(run_id, "8d")
    assert report["lifecycle"]["noncurrentRemoved"] == 2
    assert "Versions" not in s3.list_object_versions(Bucket="logs")


def test_lock_errors(run):
    _, s3 = run
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="k", Body=b"x")
    missing = ("InvalidRequest", 400, "Bucket is missing Object Lock Configuration")
    calls = [
        lambda: s3.put_object_retention(Bucket="plain", Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": utcnow() + timedelta(days=1)}),
        lambda: s3.get_object_retention(Bucket="plain", Key="k"),
        lambda: s3.put_object(Bucket="plain", Key="k2", Body=b"x", ObjectLockLegalHoldStatus="ON"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        code, status, err = error_of(e)
        assert (code, status, err["Message"]) == missing

    lock_bucket(s3, "strict")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="strict", Key="k", Body=b"x", ObjectLockMode="GOVERNANCE")
    code, status, err = error_of(e)
    assert (code, status) == ("InvalidArgument", 400)
    assert err["Message"] == "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
    assert err["ArgumentName"] == "x-amz-object-lock-retain-until-date"
    s3.put_object(Bucket="strict", Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket="strict", Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": datetime(2020, 1, 1, tzinfo=UTC)})
    code, status, err = error_of(e)
    assert (code, status, err["Message"]) == (
        "InvalidArgument", 400, "The retain until date must be in the future!")
    assert err["ArgumentName"] == "RetainUntilDate"
    assert err["ArgumentValue"] == "Tue Dec 31 16:00:00 PST 2019"


def test_awscli_retention_and_legal_hold(run):
    run_id, s3 = run
    lock_bucket(s3, "cli")
    v = s3.put_object(Bucket="cli", Key="k", Body=b"x")["VersionId"]
    aws = str(Path(__file__).resolve().parent / ".venv" / "bin" / "aws")

    def cli(*args):
        return subprocess.run(
            [aws, "--endpoint-url", f"{ENDPOINT}/t/{run_id}", "s3api", *args],
            capture_output=True, text=True, timeout=120)

    until = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = cli("put-object-retention", "--bucket", "cli", "--key", "k", "--version-id", v,
            "--retention", json.dumps({"Mode": "GOVERNANCE", "RetainUntilDate": until}))
    assert r.returncode == 0, r.stderr
    r = cli("put-object-legal-hold", "--bucket", "cli", "--key", "k", "--legal-hold", "Status=ON")
    assert r.returncode == 0, r.stderr
    r = cli("get-object-retention", "--bucket", "cli", "--key", "k")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Retention"]["Mode"] == "GOVERNANCE"
    r = cli("delete-object", "--bucket", "cli", "--key", "k", "--version-id", v,
            "--bypass-governance-retention")
    assert r.returncode != 0 and "AccessDenied" in r.stderr, r.stderr
