"""Object-model flows through the high-level tools: aws-cli multipart copies of a 64 MiB
file, `aws s3api list-object-versions`, and boto3's managed transfers (upload_file /
download_file with TransferConfig multipart thresholds)."""

import hashlib
import json
import os

import boto3.s3.transfer
import pytest
from botocore.exceptions import ClientError

from conftest import error_of


def _multipart_etag(data: bytes, part_size: int) -> str:
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def test_cli_cp_64_mib_multipart_both_ways(aws, s3, bucket, tmp_path):
    data = os.urandom(64 * 1024 * 1024)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    aws("s3", "cp", src, f"s3://{bucket}/videos/big.bin")
    head = s3.head_object(Bucket=bucket, Key="videos/big.bin")
    assert head["ContentLength"] == len(data)
    # aws-cli's default multipart_chunksize is 8 MiB: 8 parts.
    assert head["ETag"] == _multipart_etag(data, 8 * 1024 * 1024)
    one = s3.head_object(Bucket=bucket, Key="videos/big.bin", PartNumber=3)
    assert one["PartsCount"] == 8 and one["ContentLength"] == 8 * 1024 * 1024
    dst = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/videos/big.bin", dst)
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()
    # No upload is left behind.
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_cli_list_object_versions(aws, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=bucket, Key="doc.txt", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    s3.delete_object(Bucket=bucket, Key="doc.txt")
    out = json.loads(aws("s3api", "list-object-versions", "--bucket", bucket).stdout)
    versions = [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out["Versions"]]
    assert versions == [("doc.txt", ids[2], False), ("doc.txt", ids[1], False), ("doc.txt", ids[0], False)]
    markers = out["DeleteMarkers"]
    assert len(markers) == 1 and markers[0]["IsLatest"] is True
    # The CLI pages through small pages and still returns everything.
    paged = json.loads(aws("s3api", "list-object-versions", "--bucket", bucket, "--page-size", "1").stdout)
    assert len(paged["Versions"]) == 3 and len(paged["DeleteMarkers"]) == 1
    old = s3.get_object(Bucket=bucket, Key="doc.txt", VersionId=ids[0])
    assert old["Body"].read() == b"v0"


@pytest.mark.parametrize("size", [3 * 1024 * 1024, 23 * 1024 * 1024 + 17])
def test_boto3_managed_transfers_with_thresholds(s3, bucket, tmp_path, size):
    data = os.urandom(size)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    cfg = boto3.s3.transfer.TransferConfig(
        multipart_threshold=5 * 1024 * 1024,
        multipart_chunksize=5 * 1024 * 1024,
        max_concurrency=4,
    )
    s3.upload_file(str(src), bucket, "managed.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="managed.bin")
    if size > cfg.multipart_threshold:
        assert head["ETag"] == _multipart_etag(data, 5 * 1024 * 1024)
    else:
        assert head["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
    dst = tmp_path / "out.bin"
    s3.download_file(bucket, "managed.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data


def test_multipart_errors_through_boto3(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="k")
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=up["UploadId"], PartNumber=1, Body=b"abc")["ETag"]
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=up["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": etag}]},
        )
    assert error_of(ei)[:2] == ("InvalidPart", 400)
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=up["UploadId"])
    with pytest.raises(ClientError) as ei:
        s3.list_parts(Bucket=bucket, Key="k", UploadId=up["UploadId"])
    assert error_of(ei)[:2] == ("NoSuchUpload", 404)
