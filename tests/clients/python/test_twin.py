"""The twin surface: runs API, seeding, the per-run clock, lifecycle rules run on
that clock, archived objects and RestoreObject, and presigned-URL expiry.

boto3 does the S3 side; the admin API is plain JSON over urllib.  Expected
behaviour comes from the s3twin admin contract and from AWS's documentation:

* Lifecycle ("Lifecycle configuration elements", S3 User Guide): S3 adds the
  rule's days to the object's creation time (for noncurrent actions: to the
  time the version became noncurrent) and rounds the result up to the next
  midnight UTC.  NewerNoncurrentVersions keeps that many newest noncurrent
  versions.  ExpiredObjectDeleteMarker removes a delete marker that has no
  noncurrent versions.  In a versioning-enabled bucket, expiring the current
  version adds a delete marker and keeps the data as a noncurrent version.
  x-amz-expiration: expiry-date="<HTTP date>", rule-id="<ID>".
* Archived objects: GetObject on GLACIER / DEEP_ARCHIVE -> 403
  InvalidObjectState; RestoreObject -> 202 Accepted (200 OK when a restored
  copy already exists), a second request while one is running -> 409
  RestoreAlreadyInProgress; HEAD shows x-amz-restore: ongoing-request="true",
  then ongoing-request="false", expiry-date="<HTTP date at midnight>".
* Query-string auth: an expired URL -> 403 AccessDenied "Request has expired"
  with X-Amz-Expires (SigV4 only), Expires and ServerTime elements;
  X-Amz-Expires above 604800 or negative -> 400
  AuthorizationQueryParametersError.
"""

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import s3util
from conftest import ENDPOINT, error_of, new_bucket_name

UTC = timezone.utc
RUN_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
EXPIRATION_RE = re.compile(r'^expiry-date="([^"]+)", rule-id="([^"]+)"$')
RESTORE_DONE_RE = re.compile(r'^ongoing-request="false", expiry-date="([^"]+)"$')

# A fixed instant far enough in the future that `set` always moves forward.
T0 = datetime(2030, 1, 1, 10, 0, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def iso(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def http_date(dt):
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def utcnow():
    return datetime.now(UTC)


def close_to(actual, expected, slack=timedelta(minutes=2)):
    return abs(actual - expected) <= slack


class AdminResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"AdminResponse({self.status}, {self.body[:400]!r})"


def admin(method, path, body=None, raw=None, timeout=60):
    """One admin API call: JSON in (``body``) or raw bytes (``raw``), JSON out."""
    headers = {}
    data = None
    if raw is not None:
        data = raw.encode() if isinstance(raw, str) else raw
        headers["Content-Type"] = "application/json"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif method in ("POST", "PUT"):
        data = b""
    req = urllib.request.Request(ENDPOINT + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return AdminResponse(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return AdminResponse(e.code, dict(e.headers), e.read())


def assert_json_error(resp, status=None):
    if status is None:
        assert 400 <= resp.status < 500, resp
    else:
        assert resp.status == status, resp
    assert resp.headers.get("content-type", "").startswith("application/json"), resp
    data = resp.json()
    assert isinstance(data.get("error"), str) and data["error"], resp
    return data


def http(method, url, data=None):
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def xml_fields(body):
    root = ET.fromstring(body)
    return {s3util.strip_ns(c.tag): (c.text or "") for c in root}


def keys_of(s3, bucket, **kw):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, **kw).get("Contents", [])]


def versions_of(s3, bucket, key=None):
    """(versions, delete markers) as lists of (Key, VersionId, IsLatest), newest first."""
    out = s3.list_object_versions(Bucket=bucket, **({"Prefix": key} if key else {}))
    vs = [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out.get("Versions", [])]
    dms = [(m["Key"], m["VersionId"], m["IsLatest"]) for m in out.get("DeleteMarkers", [])]
    return vs, dms


class Run:
    """A run created through POST /_s3twin/runs, with a boto3 client on it."""

    def __init__(self, info):
        self.info = info
        self.run_id = info["runId"]
        self.endpoint = info["endpoint"]
        self.s3 = self.client()

    def client(self, **config):
        cfg = {"s3": {"addressing_style": "path"},
               "retries": {"max_attempts": 1, "mode": "standard"}}
        cfg.update(config)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.info["region"],
            aws_access_key_id=self.info["accessKeyId"],
            aws_secret_access_key=self.info["secretAccessKey"],
            config=Config(**cfg),
        )

    def q(self):
        return "runId=" + urllib.parse.quote(self.run_id)

    def clock(self):
        resp = admin("GET", f"/_s3twin/clock?{self.q()}")
        assert resp.status == 200, resp
        return resp.json()

    def now(self):
        return parse_iso(self.clock()["now"])

    def post_clock(self, body):
        return admin("POST", f"/_s3twin/clock?{self.q()}", body=body)

    def _ok(self, body):
        resp = self.post_clock(body)
        assert resp.status == 200, (body, resp)
        return resp.json()

    def advance(self, spec):
        return self._ok({"advance": spec})

    def set(self, when):
        return self._ok({"set": iso(when) if isinstance(when, datetime) else when})

    def freeze(self, flag=True):
        return self._ok({"freeze": flag})

    def pin(self, when=T0):
        """Freeze the clock, then set it: every timestamp becomes exact."""
        self.freeze(True)
        out = self.set(when)
        assert out["frozen"] is True, out
        assert parse_iso(out["now"]) == when, out
        return out

    def presign(self, method, bucket, key, expires=3600):
        resp = admin("POST", f"/_s3twin/presign?{self.q()}",
                     body={"method": method, "bucket": bucket, "key": key, "expiresIn": expires})
        assert resp.status == 200, resp
        return resp.json()["url"]

    def seed(self, doc, path="/_clone/seed"):
        return admin("POST", f"{path}?{self.q()}", body=doc)

    def bucket(self, name=None, versioned=False, lifecycle=None, min_size=None):
        name = name or new_bucket_name("tw")
        self.s3.create_bucket(Bucket=name)
        if versioned:
            self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if lifecycle is not None:
            extra = {"TransitionDefaultMinimumObjectSize": min_size} if min_size else {}
            self.s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": lifecycle}, **extra)
        return name


def new_run_id(prefix="twin"):
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def twin():
    """Factory for runs made with POST /_s3twin/runs; deletes them afterwards."""
    made = []

    def _make(run_id=None, seed=None):
        body = {}
        if run_id is not False:
            body["runId"] = run_id or new_run_id()
        if seed is not None:
            body["seed"] = seed
        resp = admin("POST", "/_s3twin/runs", body=body)
        assert resp.status == 201, resp
        run = Run(resp.json())
        made.append(run.run_id)
        return run

    yield _make
    for run_id in made:
        try:
            admin("DELETE", f"/_s3twin/runs/{urllib.parse.quote(run_id)}")
        except Exception:
            pass


def assert_summary(resp, run, buckets, objects):
    """The seed answer carries (at least) the documented summary fields."""
    data = resp.json()
    assert {k: data.get(k) for k in ("runId", "buckets", "objects")} == \
        {"runId": run.run_id, "buckets": buckets, "objects": objects}, data


def expect_error(call, code, status):
    with pytest.raises(ClientError) as ei:
        call()
    got = error_of(ei)
    assert got[:2] == (code, status), got
    return got[2]


# ---------------------------------------------------------------------------
# 1. The seed's flow: 7-day expiry on temp-uploads
# ---------------------------------------------------------------------------

TEMP_RULE = [{"ID": "expire-temp-uploads", "Status": "Enabled",
              "Filter": {"Prefix": ""}, "Expiration": {"Days": 7}}]


def _temp_uploads(run):
    run.s3.create_bucket(Bucket="temp-uploads")
    run.s3.put_bucket_lifecycle_configuration(
        Bucket="temp-uploads", LifecycleConfiguration={"Rules": TEMP_RULE})
    for i in range(3):
        run.s3.put_object(Bucket="temp-uploads", Key=f"upload-{i}.bin", Body=b"x" * (i + 1))
    assert keys_of(run.s3, "temp-uploads") == ["upload-0.bin", "upload-1.bin", "upload-2.bin"]


def test_seven_day_expiry_after_eight_days(twin):
    run = twin()
    _temp_uploads(run)
    before = run.now()
    out = run.advance("8d")
    assert parse_iso(out["now"]) - before >= timedelta(days=8)
    # The answer comes after every due action ran: nothing is left.
    assert keys_of(run.s3, "temp-uploads") == []
    assert run.s3.list_objects_v2(Bucket="temp-uploads")["KeyCount"] == 0
    expect_error(lambda: run.s3.get_object(Bucket="temp-uploads", Key="upload-0.bin"), "NoSuchKey", 404)
    # The bucket and its rule stay.
    rules = run.s3.get_bucket_lifecycle_configuration(Bucket="temp-uploads")["Rules"]
    assert [r["ID"] for r in rules] == ["expire-temp-uploads"]


def test_seven_day_expiry_keeps_objects_after_six_days(twin):
    run = twin()
    _temp_uploads(run)
    run.advance("6d")
    assert keys_of(run.s3, "temp-uploads") == ["upload-0.bin", "upload-1.bin", "upload-2.bin"]
    assert run.s3.get_object(Bucket="temp-uploads", Key="upload-2.bin")["Body"].read() == b"xxx"


def test_advancing_one_run_does_not_expire_another_runs_objects(twin):
    a, b = twin(), twin()
    _temp_uploads(a)
    _temp_uploads(b)
    a.advance("8d")
    assert keys_of(a.s3, "temp-uploads") == []
    assert keys_of(b.s3, "temp-uploads") == ["upload-0.bin", "upload-1.bin", "upload-2.bin"]


def test_rule_added_after_the_objects_still_applies(twin):
    run = twin()
    b = run.bucket()
    run.s3.put_object(Bucket=b, Key="old.txt", Body=b"o")
    run.s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": TEMP_RULE})
    run.advance("8d")
    assert keys_of(run.s3, b) == []


# ---------------------------------------------------------------------------
# Expiration: AWS rounding, Date, filters, Disabled rules, x-amz-expiration
# ---------------------------------------------------------------------------

def test_expiration_days_rounds_up_to_next_midnight_utc(twin):
    run = twin()
    run.pin(T0)  # 2030-01-01 10:00 UTC
    b = run.bucket(lifecycle=[{"ID": "one-day", "Status": "Enabled",
                               "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}])
    run.s3.put_object(Bucket=b, Key="k", Body=b"v")
    # 10:00 + 1 day = Jan 2 10:00, rounded up: due at Jan 3 00:00 UTC.
    run.set(datetime(2030, 1, 2, 12, 0, tzinfo=UTC))
    assert keys_of(run.s3, b) == ["k"], "expired before the rounded-up midnight"
    run.set(datetime(2030, 1, 2, 23, 50, tzinfo=UTC))
    assert keys_of(run.s3, b) == ["k"], "expired before the rounded-up midnight"
    run.set(datetime(2030, 1, 3, 0, 10, tzinfo=UTC))
    assert keys_of(run.s3, b) == []


def test_expiration_date(twin):
    run = twin()
    run.pin(datetime(2030, 5, 1, 9, 0, tzinfo=UTC))
    b = run.bucket(lifecycle=[{"ID": "by-date", "Status": "Enabled", "Filter": {"Prefix": "dated/"},
                               "Expiration": {"Date": datetime(2030, 6, 1, tzinfo=UTC)}}])
    run.s3.put_object(Bucket=b, Key="dated/a", Body=b"a")
    run.s3.put_object(Bucket=b, Key="other/b", Body=b"b")
    head = run.s3.head_object(Bucket=b, Key="dated/a")
    assert head["Expiration"] == 'expiry-date="Sat, 01 Jun 2030 00:00:00 GMT", rule-id="by-date"'
    run.set(datetime(2030, 5, 31, 23, 0, tzinfo=UTC))
    assert keys_of(run.s3, b) == ["dated/a", "other/b"]
    run.set(datetime(2030, 6, 1, 0, 30, tzinfo=UTC))
    assert keys_of(run.s3, b) == ["other/b"]


def test_expiration_filters_and_disabled_rules(twin):
    run = twin()
    b = run.bucket()
    put = run.s3.put_object
    put(Bucket=b, Key="tmp/a", Body=b"1")                                   # prefix: expires
    put(Bucket=b, Key="other/a", Body=b"1")                                 # no rule
    put(Bucket=b, Key="t/scratch", Body=b"1", Tagging="class=scratch")      # tag: expires
    put(Bucket=b, Key="t/precious", Body=b"1", Tagging="class=precious")    # other value
    put(Bucket=b, Key="logs/dev", Body=b"1", Tagging="env=dev&team=x")      # And: expires
    put(Bucket=b, Key="logs/prod", Body=b"1", Tagging="env=prod")           # And: wrong tag
    put(Bucket=b, Key="devonly", Body=b"1", Tagging="env=dev")              # And: wrong prefix
    put(Bucket=b, Key="sz/small", Body=b"s" * 50)                           # size below range
    put(Bucket=b, Key="sz/mid", Body=b"m" * 500)                            # in range: expires
    put(Bucket=b, Key="sz/big", Body=b"b" * 2000)                           # above range
    put(Bucket=b, Key="keep/a", Body=b"1")                                  # Disabled rule
    rules = [
        {"ID": "prefix", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {"ID": "tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "class", "Value": "scratch"}},
         "Expiration": {"Days": 1}},
        {"ID": "and", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "env", "Value": "dev"}]}},
         "Expiration": {"Days": 1}},
        {"ID": "size", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "sz/", "ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 1000}},
         "Expiration": {"Days": 1}},
        {"ID": "disabled", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 1}},
    ]
    run.s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
    run.advance("3d")
    assert keys_of(run.s3, b) == ["devonly", "keep/a", "logs/prod", "other/a", "sz/big",
                                  "sz/small", "t/precious"]


def test_object_size_filters_alone(twin):
    run = twin()
    b = run.bucket(lifecycle=[
        {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1000},
         "Expiration": {"Days": 2}},
    ])
    run.s3.put_object(Bucket=b, Key="small", Body=b"x" * 10)
    run.s3.put_object(Bucket=b, Key="large", Body=b"x" * 4096)
    run.advance("4d")
    assert keys_of(run.s3, b) == ["small"]


def test_x_amz_expiration_on_put_get_head(twin):
    run = twin()
    run.pin(T0)
    b = run.bucket(lifecycle=[{"ID": "tmp-7d", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                               "Expiration": {"Days": 7}}])
    # Created Tue 2030-01-01 10:00 + 7 days -> Jan 8 10:00 -> rounded: Jan 9 00:00 GMT.
    want = 'expiry-date="Wed, 09 Jan 2030 00:00:00 GMT", rule-id="tmp-7d"'
    put = run.s3.put_object(Bucket=b, Key="tmp/a.txt", Body=b"a")
    assert put.get("Expiration") == want
    assert run.s3.head_object(Bucket=b, Key="tmp/a.txt").get("Expiration") == want
    got = run.s3.get_object(Bucket=b, Key="tmp/a.txt")
    assert got.get("Expiration") == want
    assert got["Body"].read() == b"a"
    m = EXPIRATION_RE.match(want)
    assert parsedate_to_datetime(m.group(1)) == datetime(2030, 1, 9, tzinfo=UTC)
    # No rule applies: no header.
    put = run.s3.put_object(Bucket=b, Key="keep/b.txt", Body=b"b")
    assert "Expiration" not in put
    assert "Expiration" not in run.s3.head_object(Bucket=b, Key="keep/b.txt")
    assert "Expiration" not in run.s3.get_object(Bucket=b, Key="keep/b.txt")


# ---------------------------------------------------------------------------
# 2. Versioned buckets
# ---------------------------------------------------------------------------

def test_expiration_in_versioned_bucket_adds_delete_marker(twin):
    run = twin()
    b = run.bucket(versioned=True, lifecycle=[
        {"ID": "exp", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}])
    vid = run.s3.put_object(Bucket=b, Key="doc.txt", Body=b"data")["VersionId"]
    run.advance("3d")
    assert keys_of(run.s3, b) == []
    vs, dms = versions_of(run.s3, b)
    assert vs == [("doc.txt", vid, False)]
    assert len(dms) == 1 and dms[0][0] == "doc.txt" and dms[0][2] is True
    # The data is kept as a noncurrent version.
    old = run.s3.get_object(Bucket=b, Key="doc.txt", VersionId=vid)
    assert old["Body"].read() == b"data"
    expect_error(lambda: run.s3.get_object(Bucket=b, Key="doc.txt"), "NoSuchKey", 404)
    # A later pass does not stack a second marker on the first.
    run.advance("3d")
    vs2, dms2 = versions_of(run.s3, b)
    assert vs2 == vs and dms2 == dms


def test_noncurrent_version_expiration_counts_from_becoming_noncurrent(twin):
    run = twin()
    run.pin(datetime(2030, 3, 1, 10, 0, tzinfo=UTC))
    b = run.bucket(versioned=True, lifecycle=[
        {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": ""},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 2}}])
    v1 = run.s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    # v1 stays current for 5 days: its age alone must not matter.
    run.set(datetime(2030, 3, 6, 11, 0, tzinfo=UTC))
    v2 = run.s3.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
    assert versions_of(run.s3, b)[0] == [("k", v2, True), ("k", v1, False)]
    # Noncurrent since Mar 6 11:00; + 2 days = Mar 8 11:00; rounded: Mar 9 00:00.
    run.set(datetime(2030, 3, 8, 12, 0, tzinfo=UTC))
    assert versions_of(run.s3, b)[0] == [("k", v2, True), ("k", v1, False)]
    run.set(datetime(2030, 3, 9, 0, 30, tzinfo=UTC))
    vs, dms = versions_of(run.s3, b)
    assert vs == [("k", v2, True)] and dms == []
    assert run.s3.get_object(Bucket=b, Key="k")["Body"].read() == b"two"
    expect_error(lambda: run.s3.get_object(Bucket=b, Key="k", VersionId=v1), "NoSuchVersion", 404)


def test_newer_noncurrent_versions_keeps_the_newest(twin):
    run = twin()
    b = run.bucket(versioned=True, lifecycle=[
        {"ID": "keep-2", "Status": "Enabled", "Filter": {"Prefix": ""},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}}])
    ids = [run.s3.put_object(Bucket=b, Key="k", Body=f"v{i}".encode())["VersionId"] for i in range(5)]
    run.advance("3d")
    # Current v4, the two newest noncurrent (v3, v2) kept; v1, v0 deleted.
    assert versions_of(run.s3, b)[0] == [("k", ids[4], True), ("k", ids[3], False), ("k", ids[2], False)]
    run.advance("30d")
    assert versions_of(run.s3, b)[0] == [("k", ids[4], True), ("k", ids[3], False), ("k", ids[2], False)]
    assert run.s3.get_object(Bucket=b, Key="k", VersionId=ids[2])["Body"].read() == b"v2"


def test_expired_object_delete_marker_is_removed(twin):
    run = twin()
    b = run.bucket(versioned=True, lifecycle=[
        {"ID": "dm", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Expiration": {"ExpiredObjectDeleteMarker": True}}])
    # A delete marker alone (the key never had data): an expired object delete marker.
    lone = run.s3.delete_object(Bucket=b, Key="lone")
    assert lone["DeleteMarker"] is True
    # A delete marker over a noncurrent version: not expired, must stay.
    vid = run.s3.put_object(Bucket=b, Key="covered", Body=b"x")["VersionId"]
    run.s3.delete_object(Bucket=b, Key="covered")
    # A plain object: untouched.
    live = run.s3.put_object(Bucket=b, Key="live", Body=b"y")["VersionId"]
    run.advance("3d")
    vs, dms = versions_of(run.s3, b)
    assert [m[0] for m in dms] == ["covered"]
    assert vs == [("covered", vid, False), ("live", live, True)]


def test_noncurrent_expiration_then_expired_delete_marker_cleanup(twin):
    run = twin()
    b = run.bucket(versioned=True, lifecycle=[
        {"ID": "cleanup", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Expiration": {"ExpiredObjectDeleteMarker": True},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}])
    run.s3.put_object(Bucket=b, Key="gone.txt", Body=b"1")
    run.s3.delete_object(Bucket=b, Key="gone.txt")
    run.s3.put_object(Bucket=b, Key="kept.txt", Body=b"old")
    newest = run.s3.put_object(Bucket=b, Key="kept.txt", Body=b"new")["VersionId"]
    run.advance("12h")
    vs, dms = versions_of(run.s3, b)
    assert len(vs) == 3 and len(dms) == 1, "noncurrent versions expired before NoncurrentDays"
    # After the noncurrent versions go, the marker of gone.txt has nothing
    # under it and is removed too (two passes allowed).
    run.advance("3d")
    run.advance("2d")
    vs, dms = versions_of(run.s3, b)
    assert vs == [("kept.txt", newest, True)]
    assert dms == []


# ---------------------------------------------------------------------------
# Incomplete multipart uploads
# ---------------------------------------------------------------------------

def test_abort_incomplete_multipart_upload(twin):
    run = twin()
    b = run.bucket(lifecycle=[{"ID": "abort", "Status": "Enabled", "Filter": {"Prefix": "mp/"},
                               "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}])
    up = run.s3.create_multipart_upload(Bucket=b, Key="mp/big.bin")["UploadId"]
    etag = run.s3.upload_part(Bucket=b, Key="mp/big.bin", UploadId=up, PartNumber=1, Body=b"part")["ETag"]
    other = run.s3.create_multipart_upload(Bucket=b, Key="other/x.bin")["UploadId"]
    run.advance("1d")
    uploads = run.s3.list_multipart_uploads(Bucket=b).get("Uploads", [])
    assert sorted(u["UploadId"] for u in uploads) == sorted([up, other])
    run.advance("3d")
    uploads = run.s3.list_multipart_uploads(Bucket=b).get("Uploads", [])
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("other/x.bin", other)]
    expect_error(lambda: run.s3.list_parts(Bucket=b, Key="mp/big.bin", UploadId=up), "NoSuchUpload", 404)
    expect_error(lambda: run.s3.complete_multipart_upload(
        Bucket=b, Key="mp/big.bin", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}), "NoSuchUpload", 404)
    assert run.s3.list_parts(Bucket=b, Key="other/x.bin", UploadId=other).get("Parts", []) == []


# ---------------------------------------------------------------------------
# Transitions and archived objects
# ---------------------------------------------------------------------------

def _storage_classes(s3, bucket):
    return {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_transition_to_glacier_then_restore(twin):
    run = twin()
    run.pin(T0)
    # Objects under 128 KiB go to GLACIER only under the pre-2024 default.
    b = run.bucket(lifecycle=[{"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "archive/"},
                               "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}],
                   min_size="varies_by_storage_class")
    run.s3.put_object(Bucket=b, Key="archive/report.csv", Body=b"a,b\n1,2\n")
    run.s3.put_object(Bucket=b, Key="hot/x", Body=b"x")
    run.advance("12h")
    assert _storage_classes(run.s3, b) == {"archive/report.csv": "STANDARD", "hot/x": "STANDARD"}

    run.set(datetime(2030, 1, 4, 10, 0, tzinfo=UTC))
    assert _storage_classes(run.s3, b) == {"archive/report.csv": "GLACIER", "hot/x": "STANDARD"}
    assert run.s3.head_object(Bucket=b, Key="archive/report.csv")["StorageClass"] == "GLACIER"
    assert run.s3.get_object(Bucket=b, Key="hot/x")["Body"].read() == b"x"
    expect_error(lambda: run.s3.get_object(Bucket=b, Key="archive/report.csv"), "InvalidObjectState", 403)

    resp = run.s3.restore_object(Bucket=b, Key="archive/report.csv",
                                 RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert run.s3.head_object(Bucket=b, Key="archive/report.csv")["Restore"] == 'ongoing-request="true"'
    expect_error(lambda: run.s3.get_object(Bucket=b, Key="archive/report.csv"), "InvalidObjectState", 403)
    expect_error(lambda: run.s3.restore_object(
        Bucket=b, Key="archive/report.csv",
        RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}}),
        "RestoreAlreadyInProgress", 409)

    run.advance("3h")  # Standard takes 4 hours for GLACIER
    assert run.s3.head_object(Bucket=b, Key="archive/report.csv")["Restore"] == 'ongoing-request="true"'
    run.advance("2h")
    head = run.s3.head_object(Bucket=b, Key="archive/report.csv")
    # Restored at Jan 4 14:00 for 2 days -> Jan 6 14:00 -> rounded to Jan 7 00:00.
    assert head["Restore"] == 'ongoing-request="false", expiry-date="Mon, 07 Jan 2030 00:00:00 GMT"'
    assert head["StorageClass"] == "GLACIER"
    assert run.s3.get_object(Bucket=b, Key="archive/report.csv")["Body"].read() == b"a,b\n1,2\n"

    run.set(datetime(2030, 1, 6, 23, 0, tzinfo=UTC))
    assert run.s3.get_object(Bucket=b, Key="archive/report.csv")["Body"].read() == b"a,b\n1,2\n"
    run.set(datetime(2030, 1, 7, 0, 30, tzinfo=UTC))
    expect_error(lambda: run.s3.get_object(Bucket=b, Key="archive/report.csv"), "InvalidObjectState", 403)
    head = run.s3.head_object(Bucket=b, Key="archive/report.csv")
    # x-amz-restore is sent while a restore runs or a restored copy exists;
    # once the copy has expired there is nothing to report.
    assert "Restore" not in head, f"x-amz-restore after the copy expired: {head['Restore']}"
    assert head["StorageClass"] == "GLACIER"


def test_transitions_in_steps(twin):
    run = twin()
    b = run.bucket(lifecycle=[{"ID": "tiers", "Status": "Enabled", "Filter": {"Prefix": ""},
                               "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                                               {"Days": 90, "StorageClass": "GLACIER"}]}])
    data = b"data" * 32 * 1024  # 128 KiB: smaller objects are not transitioned by default
    run.s3.put_object(Bucket=b, Key="k", Body=data)
    run.advance("20d")
    assert _storage_classes(run.s3, b) == {"k": "STANDARD"}
    assert "StorageClass" not in run.s3.head_object(Bucket=b, Key="k")  # S3 omits STANDARD
    run.advance("12d")
    assert _storage_classes(run.s3, b) == {"k": "STANDARD_IA"}
    assert run.s3.head_object(Bucket=b, Key="k")["StorageClass"] == "STANDARD_IA"
    assert run.s3.get_object(Bucket=b, Key="k")["Body"].read() == data  # not archived
    run.advance("60d")
    assert _storage_classes(run.s3, b) == {"k": "GLACIER"}
    expect_error(lambda: run.s3.get_object(Bucket=b, Key="k"), "InvalidObjectState", 403)


@pytest.mark.parametrize("storage_class,tier,hours", [
    ("GLACIER", "Expedited", 5 / 60),
    ("GLACIER", "Standard", 4),
    ("GLACIER", None, 4),           # no tier: Standard
    ("GLACIER", "Bulk", 12),
    ("DEEP_ARCHIVE", "Standard", 12),
    ("DEEP_ARCHIVE", "Bulk", 48),
])
def test_restore_tier_durations(twin, storage_class, tier, hours):
    run = twin()
    run.pin(T0)
    b = run.bucket()
    run.s3.put_object(Bucket=b, Key="cold", Body=b"frozen bytes", StorageClass=storage_class)
    assert run.s3.head_object(Bucket=b, Key="cold")["StorageClass"] == storage_class
    assert _storage_classes(run.s3, b) == {"cold": storage_class}
    expect_error(lambda: run.s3.get_object(Bucket=b, Key="cold"), "InvalidObjectState", 403)
    req = {"Days": 1}
    if tier:
        req["GlacierJobParameters"] = {"Tier": tier}
    resp = run.s3.restore_object(Bucket=b, Key="cold", RestoreRequest=req)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    done = T0 + timedelta(hours=hours)
    run.set(done - timedelta(minutes=1))
    assert run.s3.head_object(Bucket=b, Key="cold")["Restore"] == 'ongoing-request="true"'
    expect_error(lambda: run.s3.get_object(Bucket=b, Key="cold"), "InvalidObjectState", 403)
    run.set(done + timedelta(minutes=1))
    m = RESTORE_DONE_RE.match(run.s3.head_object(Bucket=b, Key="cold")["Restore"])
    assert m, run.s3.head_object(Bucket=b, Key="cold")["Restore"]
    expiry = parsedate_to_datetime(m.group(1))
    assert (expiry.hour, expiry.minute, expiry.second) == (0, 0, 0)
    assert done + timedelta(days=1) <= expiry <= done + timedelta(days=2)
    assert run.s3.get_object(Bucket=b, Key="cold")["Body"].read() == b"frozen bytes"


def test_restore_of_restored_copy_is_200_and_extends_expiry(twin):
    run = twin()
    run.pin(T0)
    b = run.bucket()
    run.s3.put_object(Bucket=b, Key="cold", Body=b"c", StorageClass="GLACIER")
    run.s3.restore_object(Bucket=b, Key="cold",
                          RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    run.advance("10m")
    first = RESTORE_DONE_RE.match(run.s3.head_object(Bucket=b, Key="cold")["Restore"])
    assert first
    resp = run.s3.restore_object(Bucket=b, Key="cold", RestoreRequest={"Days": 5})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    second = RESTORE_DONE_RE.match(run.s3.head_object(Bucket=b, Key="cold")["Restore"])
    assert second
    assert parsedate_to_datetime(second.group(1)) > parsedate_to_datetime(first.group(1))


def test_restore_of_standard_object_is_invalid_object_state(twin):
    run = twin()
    b = run.bucket()
    run.s3.put_object(Bucket=b, Key="warm", Body=b"w")
    expect_error(lambda: run.s3.restore_object(Bucket=b, Key="warm", RestoreRequest={"Days": 1}),
                 "InvalidObjectState", 403)


# ---------------------------------------------------------------------------
# 3. Presigned URLs on the run's clock
# ---------------------------------------------------------------------------

def _presigned(run, kind, bucket, key):
    if kind == "boto3-sigv2":
        url = run.client().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
        assert "AWSAccessKeyId=" in url and "Signature=" in url and "Expires=" in url, url
    elif kind == "boto3-sigv4":
        url = run.client(signature_version="s3v4").generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
        assert "X-Amz-Expires=3600" in url, url
    else:
        url = run.presign("GET", bucket, key, 3600)
        assert "X-Amz-Expires=3600" in url, url
    return url


def _check_expired(url, body, run):
    fields = xml_fields(body)
    assert fields["Code"] == "AccessDenied", body
    assert fields["Message"] == "Request has expired", body
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    server_time = parse_iso(fields["ServerTime"])
    assert close_to(server_time, run.now()), (fields["ServerTime"], run.now())
    if "X-Amz-Date" in query:
        signed = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert fields["X-Amz-Expires"] == query["X-Amz-Expires"]
        assert parse_iso(fields["Expires"]) == signed + timedelta(seconds=int(query["X-Amz-Expires"]))
    else:
        assert "X-Amz-Expires" not in fields, body
        assert parse_iso(fields["Expires"]) == datetime.fromtimestamp(int(query["Expires"]), UTC)
    assert server_time > parse_iso(fields["Expires"])


@pytest.mark.parametrize("kind", ["boto3-sigv2", "boto3-sigv4", "twin-presign"])
def test_presigned_get_expires_on_the_runs_clock(twin, kind):
    a, b = twin(), twin()
    for run in (a, b):
        run.s3.create_bucket(Bucket="docs")
        run.s3.put_object(Bucket="docs", Key="report.txt", Body=f"from {run.run_id}".encode())
    url_a = _presigned(a, kind, "docs", "report.txt")
    url_b = _presigned(b, kind, "docs", "report.txt")
    assert f"/t/{a.run_id}/" in url_a and f"/t/{b.run_id}/" in url_b

    status, _, body = http("GET", url_a)
    assert (status, body) == (200, f"from {a.run_id}".encode())
    a.advance("59m")
    status, _, body = http("GET", url_a)
    assert status == 200, body

    a.advance("61m")
    status, headers, body = http("GET", url_a)
    assert status == 403, body
    _check_expired(url_a, body, a)
    # Made at the same time for another run, whose clock did not move: still good.
    status, _, body = http("GET", url_b)
    assert (status, body) == (200, f"from {b.run_id}".encode())


def test_twin_presign_is_deterministic_on_a_frozen_clock(twin):
    run = twin()
    run.pin(T0)
    run.s3.create_bucket(Bucket="docs")
    run.s3.put_object(Bucket="docs", Key="a b.txt", Body=b"spaced")
    u1 = run.presign("GET", "docs", "a b.txt", 3600)
    u2 = run.presign("GET", "docs", "a b.txt", 3600)
    assert u1 == u2
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(u1).query))
    assert query["X-Amz-Date"] == "20300101T100000Z"
    assert query["X-Amz-Expires"] == "3600"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"].split("/")[1:] == ["20300101", run.info["region"], "s3", "aws4_request"]
    assert u1.startswith(f"{run.endpoint}/docs/")
    # Computed on the run's clock (2030), so it works against that clock...
    status, _, body = http("GET", u1)
    assert (status, body) == (200, b"spaced")
    # ...and a different expiry gives a different URL.
    assert run.presign("GET", "docs", "a b.txt", 60) != u1
    run.advance("2h")
    status, _, body = http("GET", u1)
    assert status == 403 and xml_fields(body)["Code"] == "AccessDenied", body


def test_twin_presign_put(twin):
    run = twin()
    run.s3.create_bucket(Bucket="uploads")
    url = run.presign("PUT", "uploads", "in/file.bin", 600)
    status, headers, _ = http("PUT", url, data=b"via twin presign")
    assert status == 200
    assert headers["etag"] == f'"{s3util.md5_hex(b"via twin presign")}"'
    assert run.s3.get_object(Bucket="uploads", Key="in/file.bin")["Body"].read() == b"via twin presign"
    run.advance("11m")
    status, _, body = http("PUT", url, data=b"too late")
    assert status == 403 and xml_fields(body)["Code"] == "AccessDenied", body
    assert run.s3.get_object(Bucket="uploads", Key="in/file.bin")["Body"].read() == b"via twin presign"


def test_boto3_url_is_judged_by_the_runs_clock_not_real_time(twin):
    run = twin()
    run.s3.create_bucket(Bucket="docs")
    run.s3.put_object(Bucket="docs", Key="k", Body=b"x")
    url = run.client(signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": "docs", "Key": "k"}, ExpiresIn=3600)
    run.set(T0)  # years ahead of real time
    status, _, body = http("GET", url)
    assert status == 403, body
    _check_expired(url, body, run)


@pytest.mark.parametrize("expires,ok", [("604800", True), ("604801", False), ("-1", False)])
def test_x_amz_expires_limits(twin, expires, ok):
    run = twin()
    run.s3.create_bucket(Bucket="docs")
    run.s3.put_object(Bucket="docs", Key="k", Body=b"x")
    url = run.client(signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": "docs", "Key": "k"}, ExpiresIn=3600)
    assert "X-Amz-Expires=3600" in url
    status, _, body = http("GET", url.replace("X-Amz-Expires=3600", f"X-Amz-Expires={expires}"))
    if ok:
        assert (status, body) == (200, b"x")
    else:
        assert status == 400, body
        assert xml_fields(body)["Code"] == "AuthorizationQueryParametersError", body


# ---------------------------------------------------------------------------
# 4. Clocks: per run, S3 timestamps, independence, reset
# ---------------------------------------------------------------------------

def test_clock_defaults_to_real_time(twin):
    run = twin()
    clock = run.clock()
    assert clock["frozen"] is False
    assert clock["now"].endswith("Z") or clock["now"].endswith("+00:00"), clock
    assert close_to(parse_iso(clock["now"]), utcnow())


@pytest.mark.parametrize("spec,delta", [
    ("8d", timedelta(days=8)),
    ("1d12h", timedelta(hours=36)),
    ("90m", timedelta(minutes=90)),
    ("45s", timedelta(seconds=45)),
    ("2h30m15s", timedelta(hours=2, minutes=30, seconds=15)),
])
def test_advance_units_on_frozen_clock(twin, spec, delta):
    run = twin()
    run.pin(T0)
    out = run.advance(spec)
    assert parse_iso(out["now"]) == T0 + delta
    assert out["frozen"] is True
    assert run.now() == T0 + delta


def test_frozen_clock_stands_still_and_unfreezing_resumes(twin):
    run = twin()
    run.pin(T0)
    b = run.bucket()
    run.s3.put_object(Bucket=b, Key="a", Body=b"a")
    first = run.s3.head_object(Bucket=b, Key="a")["LastModified"]
    time.sleep(1.2)
    run.s3.put_object(Bucket=b, Key="b", Body=b"b")
    assert run.s3.head_object(Bucket=b, Key="b")["LastModified"] == first == T0
    assert run.now() == T0
    out = run.freeze(False)
    assert out["frozen"] is False
    time.sleep(1.2)
    assert run.now() > T0
    assert run.now() < T0 + timedelta(minutes=1)


def test_s3_timestamps_come_from_the_runs_clock(twin):
    run = twin()
    run.pin(T0)
    b = run.bucket(versioned=True)
    put = run.s3.put_object(Bucket=b, Key="k", Body=b"v")
    assert put["ResponseMetadata"]["HTTPHeaders"]["date"] == "Tue, 01 Jan 2030 10:00:00 GMT"
    head = run.s3.head_object(Bucket=b, Key="k")
    assert head["LastModified"] == T0
    assert head["ResponseMetadata"]["HTTPHeaders"]["last-modified"] == "Tue, 01 Jan 2030 10:00:00 GMT"
    listed = run.s3.list_objects_v2(Bucket=b)
    assert listed["Contents"][0]["LastModified"] == T0
    assert listed["ResponseMetadata"]["HTTPHeaders"]["date"] == "Tue, 01 Jan 2030 10:00:00 GMT"
    run.advance("1h")
    copy = run.s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "k"})
    assert copy["CopyObjectResult"]["LastModified"] == T0 + timedelta(hours=1)
    up = run.s3.create_multipart_upload(Bucket=b, Key="mp")
    uploads = run.s3.list_multipart_uploads(Bucket=b)["Uploads"]
    assert [(u["UploadId"], u["Initiated"]) for u in uploads] == [(up["UploadId"], T0 + timedelta(hours=1))]
    run.s3.delete_object(Bucket=b, Key="k")
    versions = run.s3.list_object_versions(Bucket=b, Prefix="k")
    assert versions["Versions"][0]["LastModified"] == T0
    assert versions["DeleteMarkers"][0]["LastModified"] == T0 + timedelta(hours=1)
    # Errors carry the run's Date too.
    with pytest.raises(ClientError) as ei:
        run.s3.get_object(Bucket=b, Key="missing")
    assert ei.value.response["ResponseMetadata"]["HTTPHeaders"]["date"] == "Tue, 01 Jan 2030 11:00:00 GMT"


def test_two_runs_have_independent_clocks(twin):
    a, b = twin(), twin()
    a.advance("3d")
    for run in (a, b):
        run.s3.create_bucket(Bucket="shared")
        run.s3.put_object(Bucket="shared", Key="k", Body=run.run_id.encode())
    real = utcnow()
    la = a.s3.head_object(Bucket="shared", Key="k")["LastModified"]
    lb = b.s3.head_object(Bucket="shared", Key="k")["LastModified"]
    assert close_to(la, real + timedelta(days=3)), la
    assert close_to(lb, real), lb
    assert close_to(a.s3.list_objects_v2(Bucket="shared")["Contents"][0]["LastModified"],
                    real + timedelta(days=3))
    date_a = a.s3.list_buckets()["ResponseMetadata"]["HTTPHeaders"]["date"]
    date_b = b.s3.list_buckets()["ResponseMetadata"]["HTTPHeaders"]["date"]
    assert close_to(parsedate_to_datetime(date_a), real + timedelta(days=3))
    assert close_to(parsedate_to_datetime(date_b), real)
    assert close_to(a.now(), real + timedelta(days=3))
    assert close_to(b.now(), real)


def test_reset_of_one_run_leaves_the_others_clock_and_data(twin):
    a, b = twin(), twin()
    for run in (a, b):
        run.s3.create_bucket(Bucket="shared")
        run.s3.put_object(Bucket="shared", Key="k", Body=run.run_id.encode())
    lb = b.s3.head_object(Bucket="shared", Key="k")["LastModified"]
    a.advance("2d")
    b.advance("5d")
    resp = admin("POST", f"/_s3twin/reset?{a.q()}")
    assert resp.status == 200, resp
    assert a.s3.list_buckets()["Buckets"] == []
    assert close_to(b.now(), utcnow() + timedelta(days=5))
    assert b.s3.get_object(Bucket="shared", Key="k")["Body"].read() == b.run_id.encode()
    assert b.s3.head_object(Bucket="shared", Key="k")["LastModified"] == lb


# ---------------------------------------------------------------------------
# 5. Bad admin input
# ---------------------------------------------------------------------------

def test_clock_of_unknown_run_is_404(twin):
    ghost = new_run_id("ghost")
    assert_json_error(admin("GET", f"/_s3twin/clock?runId={ghost}"), 404)
    assert_json_error(admin("POST", f"/_s3twin/clock?runId={ghost}", body={"advance": "1d"}), 404)


@pytest.mark.parametrize("body,raw", [
    (None, b'{"advance": '),
    (None, b"not json"),
    ({"advance": "-3d"}, None),
    ({"advance": "-1h"}, None),
    ({"set": "2000-01-01T00:00:00Z"}, None),
])
def test_bad_clock_requests_are_400_and_change_nothing(twin, body, raw):
    run = twin()
    run.pin(T0)
    resp = admin("POST", f"/_s3twin/clock?{run.q()}", body=body, raw=raw)
    assert_json_error(resp, 400)
    assert run.now() == T0
    assert run.clock()["frozen"] is True


def test_set_before_the_runs_own_now_is_rejected(twin):
    run = twin()
    run.pin(T0)
    assert_json_error(run.post_clock({"set": iso(T0 - timedelta(seconds=1))}), 400)
    assert run.now() == T0


def test_time_never_moves_backwards_on_a_live_clock(twin):
    run = twin()
    resp = run.post_clock({"set": iso(utcnow() - timedelta(days=1))})
    assert_json_error(resp, 400)
    assert close_to(run.now(), utcnow())


@pytest.mark.parametrize("spec", ["8x", "", "d", "eight days", "3d-1h"])
def test_malformed_advance_is_rejected(twin, spec):
    run = twin()
    run.pin(T0)
    assert_json_error(run.post_clock({"advance": spec}))
    assert run.now() == T0


SEED_ERRORS = {
    "unknown top-level field": {"buckets": [{"name": "first-ok"}], "bukkits": []},
    "unknown bucket field": {"buckets": [{"name": "first-ok"}, {"name": "second-ok", "colour": "red"}]},
    "unknown object field": {"buckets": [{"name": "first-ok", "objects": [
        {"key": "a", "body": "x", "sizeBytes": 1}]}]},
    "bad bucket name": {"buckets": [{"name": "first-ok"}, {"name": "Bad_Bucket_Name"}]},
    "too short bucket name": {"buckets": [{"name": "first-ok"}, {"name": "ab"}]},
    "body and bodyBase64": {"buckets": [{"name": "first-ok", "objects": [
        {"key": "a", "body": "x", "bodyBase64": "eA=="}]}]},
    "bad base64": {"buckets": [{"name": "first-ok", "objects": [
        {"key": "fine", "body": "ok"}, {"key": "a", "bodyBase64": "***not base64***"}]}]},
}


@pytest.mark.parametrize("case", list(SEED_ERRORS))
def test_bad_seed_is_400_and_nothing_is_applied(twin, case):
    run = twin()
    resp = run.seed(SEED_ERRORS[case])
    assert_json_error(resp, 400)
    assert run.s3.list_buckets()["Buckets"] == []
    # The run is still usable and a good document goes through.
    ok = run.seed({"buckets": [{"name": "first-ok"}]})
    assert ok.status == 200, ok
    assert [x["Name"] for x in run.s3.list_buckets()["Buckets"]] == ["first-ok"]


def test_malformed_seed_json_is_400(twin):
    run = twin()
    assert_json_error(admin("POST", f"/_clone/seed?{run.q()}", raw=b'{"buckets": [{"name": '), 400)
    assert run.s3.list_buckets()["Buckets"] == []


def test_bad_seed_leaves_existing_buckets_alone(twin):
    run = twin()
    run.s3.create_bucket(Bucket="existing")
    run.s3.put_object(Bucket="existing", Key="k", Body=b"keep me")
    resp = run.seed({"buckets": [{"name": "newcomer"}, {"name": "UPPER"}]})
    assert_json_error(resp, 400)
    assert [x["Name"] for x in run.s3.list_buckets()["Buckets"]] == ["existing"]
    assert run.s3.get_object(Bucket="existing", Key="k")["Body"].read() == b"keep me"


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------

SEED_RULES = [
    {"ID": "tmp-7d", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}},
    {"ID": "old-versions", "Status": "Enabled", "Filter": {"Prefix": "docs/"},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
    {"ID": "cool-down", "Status": "Disabled", "Filter": {"Prefix": "cold/"},
     "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]},
]


@pytest.mark.parametrize("path", ["/_clone/seed", "/_s3twin/seed", "/_parlel/seed"])
def test_seed_document(twin, path):
    run = twin()
    blob = bytes(range(256))
    doc = {"buckets": [
        {"name": "invoices", "versioning": "Enabled", "lifecycle": SEED_RULES, "objects": [
            {"key": "docs/a.txt", "body": "hello seed", "contentType": "text/plain",
             "metadata": {"owner": "ada"}, "tags": {"team": "billing", "year": "2030"}},
            {"key": "bin/blob.bin", "bodyBase64": base64.b64encode(blob).decode()},
            {"key": "tmp/scratch.txt", "body": "temporary"},
        ]},
        {"name": "archive-bucket", "versioning": "Suspended"},
        {"name": "plain-bucket"},
    ]}
    resp = run.seed(doc, path=path)
    assert resp.status == 200, resp
    assert_summary(resp, run, buckets=3, objects=3)

    s3 = run.s3
    assert sorted(x["Name"] for x in s3.list_buckets()["Buckets"]) == ["archive-bucket", "invoices", "plain-bucket"]
    assert keys_of(s3, "invoices") == ["bin/blob.bin", "docs/a.txt", "tmp/scratch.txt"]
    got = s3.get_object(Bucket="invoices", Key="docs/a.txt")
    assert got["Body"].read() == b"hello seed"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "ada"}
    assert got["ContentLength"] == len(b"hello seed")
    assert got["ETag"] == f'"{s3util.md5_hex(b"hello seed")}"'
    assert got.get("VersionId") not in (None, "null")
    tags = s3.get_object_tagging(Bucket="invoices", Key="docs/a.txt")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("team", "billing"), ("year", "2030")]
    assert s3.get_object(Bucket="invoices", Key="bin/blob.bin")["Body"].read() == blob
    assert s3.get_bucket_versioning(Bucket="invoices")["Status"] == "Enabled"
    assert s3.get_bucket_versioning(Bucket="archive-bucket")["Status"] == "Suspended"
    assert "Status" not in s3.get_bucket_versioning(Bucket="plain-bucket")
    rules = s3.get_bucket_lifecycle_configuration(Bucket="invoices")["Rules"]
    assert sorted(rules, key=lambda r: r["ID"]) == sorted(SEED_RULES, key=lambda r: r["ID"])
    expect_error(lambda: s3.get_bucket_lifecycle_configuration(Bucket="plain-bucket"),
                 "NoSuchLifecycleConfiguration", 404)
    # Seeded objects get timestamps from the run's clock and the seeded rules run on it.
    assert close_to(got["LastModified"], run.now())
    run.advance("8d")
    assert keys_of(s3, "invoices") == ["bin/blob.bin", "docs/a.txt"]


def test_seed_lifecycle_with_all_actions_round_trips(twin):
    run = twin()
    rules = [
        {"ID": "everything", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "x/", "Tags": [{"Key": "k", "Value": "v"}],
                            "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 100000}},
         "Expiration": {"Days": 365},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 60, "StorageClass": "GLACIER"}],
         "NoncurrentVersionExpiration": {"NoncurrentDays": 10, "NewerNoncurrentVersions": 3},
         },
        {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": "y/"},
         "Expiration": {"ExpiredObjectDeleteMarker": True},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "t", "Value": "1"}},
         "Expiration": {"Days": 3}},
    ]
    resp = run.seed({"buckets": [{"name": "rules", "versioning": "Enabled", "lifecycle": rules}]})
    assert resp.status == 200, resp
    assert_summary(resp, run, buckets=1, objects=0)
    got = run.s3.get_bucket_lifecycle_configuration(Bucket="rules")["Rules"]
    assert sorted(got, key=lambda r: r["ID"]) == sorted(rules, key=lambda r: r["ID"])


def test_seed_lifecycle_date_round_trips(twin):
    run = twin()
    rules = [{"ID": "dated", "Status": "Enabled", "Filter": {"Prefix": "d/"},
              "Expiration": {"Date": "2031-01-01T00:00:00Z"}}]
    assert run.seed({"buckets": [{"name": "dated", "lifecycle": rules}]}).status == 200
    got = run.s3.get_bucket_lifecycle_configuration(Bucket="dated")["Rules"]
    assert len(got) == 1 and got[0]["ID"] == "dated"
    assert got[0]["Expiration"] == {"Date": datetime(2031, 1, 1, tzinfo=UTC)}


# ---------------------------------------------------------------------------
# 6. Runs API
# ---------------------------------------------------------------------------

def _listed_runs():
    resp = admin("GET", "/_s3twin/runs")
    assert resp.status == 200, resp
    assert resp.headers.get("content-type", "").startswith("application/json")
    return {r["runId"]: r for r in resp.json()["runs"]}


def test_create_run_with_id(twin):
    run_id = new_run_id("named")
    run = twin(run_id)
    info = run.info
    assert info["runId"] == run_id
    assert info["endpoint"] == f"{ENDPOINT}/t/{run_id}"
    assert info["region"] == "us-east-1"
    assert isinstance(info["accessKeyId"], str) and info["accessKeyId"]
    assert isinstance(info["secretAccessKey"], str) and info["secretAccessKey"]
    # The answer is enough to configure a client.
    run.s3.create_bucket(Bucket="mine")
    run.s3.put_object(Bucket="mine", Key="k", Body=b"v")
    assert [x["Name"] for x in run.s3.list_buckets()["Buckets"]] == ["mine"]
    assert s3util.raw_request("GET", f"{ENDPOINT}/t/{run_id}/mine/k").body == b"v"


def test_create_run_without_id(twin):
    r1, r2 = twin(False), twin(False)
    for run in (r1, r2):
        assert RUN_ID_RE.match(run.run_id), run.run_id
        assert run.endpoint == f"{ENDPOINT}/t/{run.run_id}"
    assert r1.run_id != r2.run_id
    r1.s3.create_bucket(Bucket="only-in-r1")
    assert r2.s3.list_buckets()["Buckets"] == []


def test_create_run_with_empty_body(twin):
    resp = admin("POST", "/_s3twin/runs")
    assert resp.status == 201, resp
    run_id = resp.json()["runId"]
    try:
        assert RUN_ID_RE.match(run_id)
    finally:
        admin("DELETE", f"/_s3twin/runs/{run_id}")


def test_duplicate_run_is_409_and_keeps_the_original(twin):
    run = twin()
    run.s3.create_bucket(Bucket="original")
    resp = admin("POST", "/_s3twin/runs", body={"runId": run.run_id})
    assert_json_error(resp, 409)
    assert [x["Name"] for x in run.s3.list_buckets()["Buckets"]] == ["original"]


@pytest.mark.parametrize("bad", ["has/slash", "sp ace", "x" * 65, "caf\u00e9"])
def test_invalid_run_id_is_rejected(bad):
    resp = admin("POST", "/_s3twin/runs", body={"runId": bad})
    assert_json_error(resp)
    assert bad not in _listed_runs()


def test_list_and_delete_runs(twin):
    run = twin()
    run.s3.create_bucket(Bucket="one")
    run.s3.create_bucket(Bucket="two")
    other = twin()
    listed = _listed_runs()
    assert listed[run.run_id]["buckets"] == 2
    assert listed[other.run_id]["buckets"] == 0

    resp = admin("DELETE", f"/_s3twin/runs/{run.run_id}")
    assert resp.status == 200, resp
    listed = _listed_runs()
    assert run.run_id not in listed
    assert other.run_id in listed
    assert_json_error(admin("DELETE", f"/_s3twin/runs/{run.run_id}"), 404)
    # Its data is gone with it.
    assert run.s3.list_buckets()["Buckets"] == []


def test_delete_unknown_run_is_404():
    assert_json_error(admin("DELETE", f"/_s3twin/runs/{new_run_id('ghost')}"), 404)


def test_runs_api_aliases(twin):
    run_id = new_run_id("alias")
    resp = admin("POST", "/_parlel/runs", body={"runId": run_id})
    assert resp.status == 201, resp
    try:
        listed = admin("GET", "/_parlel/runs")
        assert listed.status == 200
        assert run_id in [r["runId"] for r in listed.json()["runs"]]
        clock = admin("GET", f"/_parlel/clock?runId={run_id}")
        assert clock.status == 200 and clock.json()["frozen"] is False
        adv = admin("POST", f"/_parlel/clock?runId={run_id}", body={"advance": "1d"})
        assert adv.status == 200, adv
        assert close_to(parse_iso(adv.json()["now"]), utcnow() + timedelta(days=1))
        pre = admin("POST", f"/_parlel/presign?runId={run_id}",
                    body={"method": "GET", "bucket": "b", "key": "k", "expiresIn": 60})
        assert pre.status == 200 and f"/t/{run_id}/" in pre.json()["url"], pre
    finally:
        resp = admin("DELETE", f"/_parlel/runs/{run_id}")
    assert resp.status == 200, resp


def test_create_run_with_seed_document(twin):
    run = twin(seed={"buckets": [{"name": "seeded", "objects": [{"key": "hello.txt", "body": "hi"}]}]})
    assert run.s3.get_object(Bucket="seeded", Key="hello.txt")["Body"].read() == b"hi"
    assert _listed_runs()[run.run_id]["buckets"] == 1


def test_create_run_with_bad_seed_creates_nothing():
    run_id = new_run_id("badseed")
    resp = admin("POST", "/_s3twin/runs",
                 body={"runId": run_id, "seed": {"buckets": [{"name": "Not_Valid"}]}})
    assert_json_error(resp, 400)
    assert run_id not in _listed_runs()
    resp = admin("POST", "/_s3twin/runs", body={"runId": run_id, "seed": "no-such-preset"})
    assert_json_error(resp)
    assert run_id not in _listed_runs()


def test_invoice_store_preset(twin):
    run = twin(seed="invoice-store")
    s3 = run.s3
    assert [x["Name"] for x in s3.list_buckets()["Buckets"]] == ["invoices"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket="invoices")["Rules"]
    tmp_rules = [r for r in rules
                 if r["Status"] == "Enabled"
                 and (r.get("Filter", {}).get("Prefix") == "tmp/" or r.get("Prefix") == "tmp/")
                 and r.get("Expiration", {}).get("Days") == 7]
    assert len(tmp_rules) == 1, rules
    keys = keys_of(s3, "invoices")
    pdfs = [k for k in keys if k.endswith(".pdf")]
    assert len(pdfs) >= 2, keys
    for key in pdfs:
        obj = s3.get_object(Bucket="invoices", Key=key)
        assert obj["ContentType"] == "application/pdf", key
        assert obj["Body"].read().startswith(b"%PDF"), key
    assert _listed_runs()[run.run_id]["buckets"] == 1
    # The rule is live: tmp/ goes after 8 days, the PDFs outside tmp/ stay.
    s3.put_object(Bucket="invoices", Key="tmp/draft.pdf", Body=b"%PDF-1.4 draft")
    lasting = [k for k in pdfs if not k.startswith("tmp/")]
    assert lasting, "every sample PDF is under tmp/"
    run.advance("8d")
    remaining = keys_of(s3, "invoices")
    assert "tmp/draft.pdf" not in remaining
    assert [k for k in remaining if k.startswith("tmp/")] == []
    assert set(lasting) <= set(remaining)
