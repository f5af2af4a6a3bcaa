"""HTTPS (`s3twin --tls`): boto3 and aws-cli verifying the generated local CA.

run.sh starts a `--tls` server on a temporary `--tls-dir` and exports
S3TWIN_TLS_ENDPOINT and S3TWIN_TLS_CA (the CA certificate clients trust).
botocore sends PutObject's checksum as an aws-chunked trailer only over TLS
(botocore/httpchecksum.py: "we'll only use trailers over TLS"), so that
framing is tested here, from the server's request log.
"""

import base64
import json
import os
import ssl
import urllib.request
import uuid
import zlib

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import SSLError

from conftest import AwsCli, empty_and_delete_bucket, make_client, new_bucket_name

TLS_ENDPOINT = os.environ.get("S3TWIN_TLS_ENDPOINT", "").rstrip("/")
TLS_CA = os.environ.get("S3TWIN_TLS_CA", "")

pytestmark = pytest.mark.skipif(
    not (TLS_ENDPOINT and TLS_CA),
    reason="S3TWIN_TLS_ENDPOINT / S3TWIN_TLS_CA not set (run.sh sets them)",
)


def tls_client(endpoint=None, verify=None, addressing_style="path"):
    return boto3.client(
        "s3",
        endpoint_url=endpoint or TLS_ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="parlel",
        aws_secret_access_key="parlel",
        verify=TLS_CA if verify is None else verify,
        config=Config(
            s3={"addressing_style": addressing_style},
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


def https_admin(path):
    """An admin GET over HTTPS with Python's default (verifying) TLS context."""
    ctx = ssl.create_default_context(cafile=TLS_CA)
    with urllib.request.urlopen(TLS_ENDPOINT + path, context=ctx, timeout=30) as resp:
        return json.loads(resp.read())


def http_admin(path):
    from conftest import ENDPOINT
    with urllib.request.urlopen(ENDPOINT + path, timeout=30) as resp:
        return json.loads(resp.read())


def put_entry(admin, run_id, key):
    entries = admin(f"/_s3twin/requests?runId={run_id}&operation=PutObject")["entries"]
    matching = [e for e in entries if e["key"] == key]
    assert len(matching) == 1, entries
    return matching[0]


def aws_chunked_length(data, trailer_name, checksum):
    """The length of botocore's aws-chunked body: one chunk (under its 1 MiB chunk size),
    the final zero chunk and the trailer."""
    return (len(b"%x\r\n" % len(data)) + len(data) + 2
            + len(b"0\r\n%s:%s\r\n\r\n" % (trailer_name.encode(), checksum.encode())))


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_boto3_verifies_the_generated_ca():
    s3 = tls_client()
    bucket = new_bucket_name("tls")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"over https")
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"over https"
        assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        empty_and_delete_bucket(s3, bucket)
    # Verification is real: the system's roots (certifi) do not know the local CA.
    with pytest.raises(SSLError):
        tls_client(verify=True).list_buckets()


def test_boto3_put_over_tls_streams_aws_chunked_with_a_trailer_checksum():
    run_id = f"tls-{uuid.uuid4().hex[:16]}"
    data = os.urandom(1000)
    checksum = crc32_b64(data)

    s3 = tls_client(f"{TLS_ENDPOINT}/t/{run_id}")
    s3.create_bucket(Bucket="tlsb")
    s3.put_object(Bucket="tlsb", Key="tls", Body=data)
    entry = put_entry(https_admin, run_id, "tls")
    assert entry["status"] == 200, entry
    # The wire body was the aws-chunked stream with the CRC32 trailer, not the raw bytes.
    assert entry["bytesIn"] == aws_chunked_length(data, "x-amz-checksum-crc32", checksum)
    head = s3.head_object(Bucket="tlsb", Key="tls", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == checksum
    assert head["ContentLength"] == len(data)
    assert s3.get_object(Bucket="tlsb", Key="tls")["Body"].read() == data

    # The same call over plain HTTP sends the body as it is (checksum in a header).
    from conftest import ENDPOINT
    plain = make_client(f"{ENDPOINT}/t/{run_id}")
    plain.create_bucket(Bucket="tlsb")
    plain.put_object(Bucket="tlsb", Key="plain", Body=data)
    assert put_entry(http_admin, run_id, "plain")["bytesIn"] == len(data)


def test_boto3_virtual_hosted_style_on_s3_localhost_over_tls(localhost_wildcard_dns):
    port = TLS_ENDPOINT.rsplit(":", 1)[1]
    s3 = tls_client(f"https://s3.localhost:{port}", addressing_style="virtual")
    bucket = new_bucket_name("vtls")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="v", Body=b"virtual")
        assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"virtual"
    finally:
        empty_and_delete_bucket(s3, bucket)


def test_aws_cli_with_aws_ca_bundle(tmp_path):
    aws = AwsCli(TLS_ENDPOINT)
    bucket = new_bucket_name("clitls")
    src = tmp_path / "up.txt"
    src.write_bytes(b"aws-cli over https\n" * 50)
    trusted = {"AWS_CA_BUNDLE": TLS_CA}
    aws("s3", "mb", f"s3://{bucket}", env=trusted)
    try:
        aws("s3", "cp", src, f"s3://{bucket}/up.txt", env=trusted)
        down = tmp_path / "down.txt"
        aws("s3", "cp", f"s3://{bucket}/up.txt", down, env=trusted)
        assert down.read_bytes() == src.read_bytes()
        listing = aws("s3", "ls", f"s3://{bucket}/", env=trusted)
        assert "up.txt" in listing.stdout
        # Without the bundle the CLI refuses the certificate.
        refused = aws("s3", "ls", f"s3://{bucket}/", check=False)
        assert refused.returncode != 0
        assert "SSL" in refused.stderr or "certificate" in refused.stderr, refused.stderr
    finally:
        empty_and_delete_bucket(tls_client(), bucket)
