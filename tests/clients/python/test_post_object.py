"""POST object: boto3's generate_presigned_post used by `requests`, the browser
form upload.  Reference: "Browser-Based Uploads Using POST" in the S3 API
reference; AWS's error texts as its recorded answers show them."""

import hashlib
import re

import pytest
import requests

from conftest import make_client


@pytest.fixture
def s3v4():
    return make_client(signature_version="s3v4")


def _post(presigned, data=b"hello post", filename="hello.txt"):
    return requests.post(
        presigned["url"],
        data=presigned["fields"],
        files={"file": (filename, data)},
        timeout=30,
    )


def _message(resp):
    m = re.search(r"<Message>(.*?)</Message>", resp.text, re.S)
    return m.group(1).replace("&quot;", '"') if m else None


def _code(resp):
    m = re.search(r"<Code>(.*?)</Code>", resp.text)
    return m.group(1) if m else None


def test_presigned_post_uploads(s3, s3v4, bucket):
    presigned = s3v4.generate_presigned_post(
        bucket, "user/${filename}",
        Fields={"Content-Type": "text/plain"},
        Conditions=[["starts-with", "$key", "user/"], {"Content-Type": "text/plain"},
                    ["content-length-range", 1, 100]],
        ExpiresIn=300,
    )
    resp = _post(presigned)
    assert resp.status_code == 204, resp.text
    assert resp.headers["ETag"] == '"%s"' % hashlib.md5(b"hello post").hexdigest()
    got = s3.get_object(Bucket=bucket, Key="user/hello.txt")
    assert got["Body"].read() == b"hello post"
    assert got["ContentType"] == "text/plain"
    assert got["ETag"] == resp.headers["ETag"]


def test_presigned_post_201_body(s3v4, bucket):
    presigned = s3v4.generate_presigned_post(
        bucket, "doc.bin", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}], ExpiresIn=300)
    resp = _post(presigned, b"\x00\x01binary")
    assert resp.status_code == 201, resp.text
    assert "<PostResponse>" in resp.text
    assert "<Key>doc.bin</Key>" in resp.text
    assert f"<Bucket>{bucket}</Bucket>" in resp.text


def test_presigned_post_policy_violations(s3v4, bucket):
    presigned = s3v4.generate_presigned_post(
        bucket, "user/a.txt",
        Conditions=[["starts-with", "$key", "user/"], ["content-length-range", 1, 5]],
        ExpiresIn=300)
    # Wrong key prefix.
    fields = dict(presigned["fields"], key="other/a.txt")
    resp = requests.post(presigned["url"], data=fields, files={"file": ("a", b"x")}, timeout=30)
    assert resp.status_code == 403, resp.text
    assert _code(resp) == "AccessDenied"
    assert _message(resp) == 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]'
    # Too large.
    resp = _post(presigned, b"123456789")
    assert resp.status_code == 400, resp.text
    assert _code(resp) == "EntityTooLarge"
    assert "<MaxSizeAllowed>5</MaxSizeAllowed>" in resp.text
    assert "<ProposedSize>9</ProposedSize>" in resp.text


def test_presigned_post_expires_on_the_run_clock(run_factory):
    _run, endpoint = run_factory("post")
    s3 = make_client(endpoint=endpoint, signature_version="s3v4")
    bucket = "post-exp-bucket"
    s3.create_bucket(Bucket=bucket)
    presigned = s3.generate_presigned_post(bucket, "k", ExpiresIn=60)
    assert _post(presigned).status_code == 204
    r = requests.post(endpoint.split("/t/")[0] + "/_s3twin/clock?runId=" + _run,
                      json={"advance": "2m"}, timeout=30)
    assert r.status_code == 200, r.text
    resp = _post(presigned)
    assert resp.status_code == 403, resp.text
    assert _message(resp) == "Invalid according to Policy: Policy expired."
