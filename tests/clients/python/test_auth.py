"""Authentication in enforce mode (issue 13), against runs created with {"auth": "enforce"}:
boto3 and aws-cli sign for real; wrong secrets, unknown keys, tampered or expired presigned
URLs and skewed clocks get AWS's errors."""

import io
import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import s3util
from conftest import AWS_BIN, error_of, new_bucket_name


def enforcing_run(endpoint):
    run_id = f"auth-{uuid.uuid4().hex[:16]}"
    r = s3util.raw_request("POST", f"{endpoint}/_s3twin/runs", sign=False,
                           body=json.dumps({"runId": run_id, "auth": "enforce"}),
                           headers={"Content-Type": "application/json"})
    assert r.status == 201, r
    assert r.json()["auth"] == "enforce"
    return run_id, f"{endpoint}/t/{run_id}"


def client(ep, ak="parlel", sk="parlel", **cfg):
    return boto3.client(
        "s3", endpoint_url=ep, region_name="us-east-1",
        aws_access_key_id=ak, aws_secret_access_key=sk,
        config=Config(s3={"addressing_style": "path"},
                      retries={"max_attempts": 1, "mode": "standard"}, **cfg))


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def run(endpoint):
    run_id, ep = enforcing_run(endpoint)
    yield run_id, ep
    s3util.admin(endpoint, "POST", f"/_s3twin/reset?runId={run_id}")


def test_boto3_right_keys_wrong_secret_unknown_key(run, endpoint):
    _, ep = run
    s3 = client(ep)
    b = new_bucket_name("auth")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="a b/c+d.txt", Body=b"hello")
    assert s3.get_object(Bucket=b, Key="a b/c+d.txt")["Body"].read() == b"hello"
    # Multipart through the transfer manager (several parts).
    data = os.urandom(12 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(data), b, "big",
                      Config=boto3.s3.transfer.TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                                              multipart_chunksize=5 * 1024 * 1024))
    assert s3.get_object(Bucket=b, Key="big")["Body"].read() == data
    assert client(ep, "test", "test").list_objects_v2(Bucket=b)["KeyCount"] == 2

    with pytest.raises(ClientError) as e:
        client(ep, sk="wrong").get_object(Bucket=b, Key="a b/c+d.txt")
    code, status, err = error_of(e)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert err.get("AWSAccessKeyId") == "parlel"
    assert err.get("CanonicalRequest", "").startswith("GET\n/t/")
    with pytest.raises(ClientError) as e:
        client(ep, sk="wrong").put_object(Bucket=b, Key="x", Body=b"x")
    assert error_of(e)[:2] == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as e:
        client(ep, "AKIDNOPE", "x").list_buckets()
    code, status, err = error_of(e)
    assert (code, status, err.get("AWSAccessKeyId")) == ("InvalidAccessKeyId", 403, "AKIDNOPE")


def test_a_non_enforcing_run_accepts_anything(run_factory):
    _, ep = run_factory("lax")
    client(ep, "whoever", "whatever").create_bucket(Bucket=new_bucket_name("lax"))


def test_sigv2_header_auth(run):
    _, ep = run
    v2 = client(ep, signature_version="s3")
    b = new_bucket_name("v2")
    v2.create_bucket(Bucket=b)
    v2.put_object(Bucket=b, Key="k", Body=b"v2 body")
    assert v2.get_object(Bucket=b, Key="k")["Body"].read() == b"v2 body"
    with pytest.raises(ClientError) as e:
        client(ep, sk="wrong", signature_version="s3").get_object(Bucket=b, Key="k")
    code, status, err = error_of(e)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert err.get("StringToSign", "").startswith("GET\n")


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_presigned_urls(run, endpoint, version):
    run_id, ep = run
    s3 = client(ep)
    b = new_bucket_name("pre")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"presigned")
    url = client(ep, signature_version=version).generate_presigned_url(
        "get_object", Params={"Bucket": b, "Key": "k"}, ExpiresIn=60)
    assert fetch(url) == (200, b"presigned")
    status, body = fetch(url.replace("/k?", "/j?"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    bad = client(ep, sk="wrong", signature_version=version).generate_presigned_url(
        "get_object", Params={"Bucket": b, "Key": "k"}, ExpiresIn=60)
    assert fetch(bad)[0] == 403
    r = s3util.raw_request("POST", f"{endpoint}/_s3twin/clock?runId={run_id}", sign=False,
                           body=json.dumps({"advance": "2m"}),
                           headers={"Content-Type": "application/json"})
    assert r.status == 200
    status, body = fetch(url)
    assert status == 403 and b"Request has expired" in body


def test_skewed_clock(run, endpoint):
    run_id, ep = run
    s3 = client(ep)
    s3.list_buckets()
    r = s3util.raw_request("POST", f"{endpoint}/_s3twin/clock?runId={run_id}", sign=False,
                           body=json.dumps({"advance": "20m"}),
                           headers={"Content-Type": "application/json"})
    assert r.status == 200
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    code, status, err = error_of(e)
    assert (code, status) == ("RequestTimeTooSkewed", 403)
    assert err.get("MaxAllowedSkewMilliseconds") == "900000"


def aws_cli(ep, *args, ak="parlel", sk="parlel"):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ak, AWS_SECRET_ACCESS_KEY=sk,
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
    return subprocess.run([AWS_BIN, "--endpoint-url", ep, *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_aws_cli(run, tmp_path):
    _, ep = run
    b = new_bucket_name("cli")
    assert aws_cli(ep, "s3", "mb", f"s3://{b}").returncode == 0
    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(9 * 1024 * 1024))
    assert aws_cli(ep, "s3", "cp", str(src), f"s3://{b}/f.bin").returncode == 0
    dst = tmp_path / "g.bin"
    assert aws_cli(ep, "s3", "cp", f"s3://{b}/f.bin", str(dst)).returncode == 0
    assert dst.read_bytes() == src.read_bytes()
    bad = aws_cli(ep, "s3api", "list-objects-v2", "--bucket", b, sk="wrong")
    assert bad.returncode != 0 and "SignatureDoesNotMatch" in bad.stderr
    unknown = aws_cli(ep, "s3", "ls", ak="AKIDNOPE")
    assert unknown.returncode != 0 and "InvalidAccessKeyId" in unknown.stderr


def test_anonymous_requests_and_a_public_read_policy(run):
    from botocore import UNSIGNED
    _, ep = run
    s3 = client(ep)
    b = new_bucket_name("anon")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"public")
    anon = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1, "mode": "standard"}))
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket=b, Key="k")
    assert error_of(e)[:2] == ("AccessDenied", 403)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}]}
    # New buckets block public policies until their public access block is removed.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
    assert error_of(e)[:2] == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
    assert anon.get_object(Bucket=b, Key="k")["Body"].read() == b"public"
    assert s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"] is True
    with pytest.raises(ClientError) as e:
        anon.put_object(Bucket=b, Key="x", Body=b"x")
    assert error_of(e)[:2] == ("AccessDenied", 403)


def _post_form(presigned, data=b"form body"):
    import requests
    return requests.post(presigned["url"], data=presigned["fields"],
                         files={"file": ("f.txt", data)}, timeout=30)


def _xml(resp, name):
    import re
    m = re.search(rf"<{name}>(.*?)</{name}>", resp.text, re.S)
    return m.group(1) if m else None


@pytest.mark.parametrize("sigver", ["s3v4", "s3"])
def test_presigned_post_signature_is_verified(run, sigver):
    _, ep = run
    s3 = client(ep)
    b = new_bucket_name("authpost")
    s3.create_bucket(Bucket=b)
    signer = client(ep, signature_version=sigver)
    presigned = signer.generate_presigned_post(b, "up/${filename}", ExpiresIn=300)
    resp = _post_form(presigned)
    assert resp.status_code == 204, resp.text
    assert s3.get_object(Bucket=b, Key="up/f.txt")["Body"].read() == b"form body"

    # Signed with a wrong secret: SignatureDoesNotMatch, the policy as the string to sign.
    forged = client(ep, sk="not-the-secret", signature_version=sigver).generate_presigned_post(
        b, "up/${filename}", ExpiresIn=300)
    resp = _post_form(forged)
    assert resp.status_code == 403, resp.text
    assert _xml(resp, "Code") == "SignatureDoesNotMatch"
    assert _xml(resp, "AWSAccessKeyId") == "parlel"
    assert _xml(resp, "StringToSign") == forged["fields"]["policy"]

    # A policy changed after signing (a longer size limit, say) no longer matches.
    import base64
    tampered = dict(presigned["fields"])
    doc = json.loads(base64.b64decode(tampered["policy"]))
    doc["expiration"] = "2099-01-01T00:00:00Z"
    tampered["policy"] = base64.b64encode(json.dumps(doc).encode()).decode()
    resp = _post_form({"url": presigned["url"], "fields": tampered})
    assert resp.status_code == 403, resp.text
    assert _xml(resp, "Code") == "SignatureDoesNotMatch"

    # An unknown key.
    resp = _post_form(client(ep, ak="AKNOBODY", signature_version=sigver)
                      .generate_presigned_post(b, "up/x", ExpiresIn=300))
    assert resp.status_code == 403, resp.text
    assert _xml(resp, "Code") == "InvalidAccessKeyId"
