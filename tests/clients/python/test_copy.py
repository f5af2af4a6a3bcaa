"""CopyObject.  Reference: CopyObject API reference page."""

import pytest
from botocore.exceptions import ClientError

import s3util
from conftest import error_of


@pytest.fixture
def src(s3, bucket):
    body = b"copy source body " * 64
    put = s3.put_object(
        Bucket=bucket, Key="src/object.txt", Body=body,
        ContentType="text/x-source", CacheControl="max-age=5",
        Metadata={"origin": "source", "n": "1"}, Tagging="team=blue&tier=gold",
    )
    return bucket, "src/object.txt", body, put["ETag"]


def _tags(s3, bucket, key):
    return sorted((t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"])


def test_copy_default_copies_metadata_and_tags(s3, src):
    bucket, key, body, etag = src
    resp = s3.copy_object(Bucket=bucket, Key="dst/default", CopySource={"Bucket": bucket, "Key": key})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    # Single-part source: the copy has the same content, hence the same MD5 ETag.
    assert resp["CopyObjectResult"]["ETag"] == etag
    assert resp["CopyObjectResult"]["LastModified"]
    got = s3.get_object(Bucket=bucket, Key="dst/default")
    assert got["Body"].read() == body
    assert got["ETag"] == etag
    assert got["Metadata"] == {"origin": "source", "n": "1"}
    assert got["ContentType"] == "text/x-source"
    assert got["CacheControl"] == "max-age=5"
    assert _tags(s3, bucket, "dst/default") == [("team", "blue"), ("tier", "gold")]


def test_copy_metadata_replace(s3, src):
    bucket, key, body, etag = src
    s3.copy_object(
        Bucket=bucket, Key="dst/replace", CopySource={"Bucket": bucket, "Key": key},
        MetadataDirective="REPLACE", Metadata={"fresh": "yes"}, ContentType="text/x-new",
    )
    got = s3.head_object(Bucket=bucket, Key="dst/replace")
    assert got["Metadata"] == {"fresh": "yes"}
    assert got["ContentType"] == "text/x-new"
    # REPLACE replaces all metadata: the source's Cache-Control is not kept.
    assert "CacheControl" not in got
    assert got["ETag"] == etag
    # Explicit COPY ignores metadata supplied with the request.
    s3.copy_object(
        Bucket=bucket, Key="dst/copy", CopySource={"Bucket": bucket, "Key": key},
        MetadataDirective="COPY", Metadata={"ignored": "1"},
    )
    assert s3.head_object(Bucket=bucket, Key="dst/copy")["Metadata"] == {"origin": "source", "n": "1"}


def test_copy_tagging_directive_replace(s3, src):
    bucket, key, _, _ = src
    s3.copy_object(
        Bucket=bucket, Key="dst/tags", CopySource={"Bucket": bucket, "Key": key},
        TaggingDirective="REPLACE", Tagging="env=prod",
    )
    assert _tags(s3, bucket, "dst/tags") == [("env", "prod")]
    s3.copy_object(
        Bucket=bucket, Key="dst/notags", CopySource={"Bucket": bucket, "Key": key},
        TaggingDirective="REPLACE",
    )
    assert _tags(s3, bucket, "dst/notags") == []
    assert _tags(s3, bucket, key) == [("team", "blue"), ("tier", "gold")]


def test_copy_source_if_match(s3, src):
    bucket, key, body, etag = src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst/cond", CopySource={"Bucket": bucket, "Key": key},
                       CopySourceIfMatch='"00000000000000000000000000000000"')
    assert error_of(ei)[:2] == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="dst/cond")
    assert error_of(ei)[1] == 404
    s3.copy_object(Bucket=bucket, Key="dst/cond", CopySource={"Bucket": bucket, "Key": key},
                   CopySourceIfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="dst/cond")["Body"].read() == body


def test_copy_source_if_none_match(s3, src):
    bucket, key, _, etag = src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst/cond2", CopySource={"Bucket": bucket, "Key": key},
                       CopySourceIfNoneMatch=etag)
    assert error_of(ei)[:2] == ("PreconditionFailed", 412)


def test_copy_onto_itself_requires_change(s3, src):
    bucket, key, body, _ = src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert error_of(ei)[:2] == ("InvalidRequest", 400)
    # With REPLACE it is allowed and rewrites the metadata in place.
    s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="REPLACE", Metadata={"rewritten": "true"})
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Metadata"] == {"rewritten": "true"}
    assert got["Body"].read() == body


@pytest.mark.parametrize("src_key", [
    "with spaces/and more spaces.txt",
    "ünïcödé/日本語/ファイル.txt",
    "plus+sign+key",
    "percent%20literal%2Fkey",
    "mixed ü+%&=?#.bin",
])
def test_copy_source_with_special_characters(s3, bucket, src_key):
    body = ("payload for " + src_key).encode()
    put = s3.put_object(Bucket=bucket, Key=src_key, Body=body)
    resp = s3.copy_object(Bucket=bucket, Key="copied/" + src_key,
                          CopySource={"Bucket": bucket, "Key": src_key})
    assert resp["CopyObjectResult"]["ETag"] == put["ETag"]
    assert s3.get_object(Bucket=bucket, Key="copied/" + src_key)["Body"].read() == body
    # The string form of CopySource is URL-encoded by boto3 as well.
    s3.copy_object(Bucket=bucket, Key="copied2", CopySource=f"{bucket}/{src_key}")
    assert s3.get_object(Bucket=bucket, Key="copied2")["Body"].read() == body


def test_copy_across_buckets(s3, src, bucket_factory):
    bucket, key, body, etag = src
    other = bucket_factory()
    resp = s3.copy_object(Bucket=other, Key="x", CopySource={"Bucket": bucket, "Key": key})
    assert resp["CopyObjectResult"]["ETag"] == etag
    assert s3.get_object(Bucket=other, Key="x")["Body"].read() == body


def test_copy_missing_source(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "no-such-source"})
    assert error_of(ei)[:2] == ("NoSuchKey", 404)


def test_copy_storage_class_change_onto_itself(s3, src):
    bucket, key, body, _ = src
    # Changing the storage class is a change, so self-copy is allowed.
    s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                   StorageClass="STANDARD_IA")
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["StorageClass"] == "STANDARD_IA"
    # Default directive COPY keeps the metadata.
    assert head["Metadata"] == {"origin": "source", "n": "1"}


def test_copy_etag_matches_md5_of_body(s3, bucket):
    body = bytes(range(256)) * 100
    s3.put_object(Bucket=bucket, Key="bin", Body=body)
    resp = s3.copy_object(Bucket=bucket, Key="bin2", CopySource={"Bucket": bucket, "Key": "bin"})
    assert resp["CopyObjectResult"]["ETag"] == f'"{s3util.md5_hex(body)}"'


def test_copy_keeps_source_checksum_by_default(s3, bucket):
    # "When you copy an object, if the source object has a checksum, that
    # checksum value will be copied to the new object by default."
    body = b"sha256 source" * 10
    s3.put_object(Bucket=bucket, Key="cks", Body=body, ChecksumAlgorithm="SHA256")
    s3.copy_object(Bucket=bucket, Key="cks-copy", CopySource={"Bucket": bucket, "Key": "cks"})
    head = s3.head_object(Bucket=bucket, Key="cks-copy", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == s3util.sha256_b64(body)


def test_copy_with_new_checksum_algorithm(s3, bucket):
    body = b"re-checksummed on copy" * 10
    s3.put_object(Bucket=bucket, Key="cks2", Body=body)  # SDK default CRC32
    resp = s3.copy_object(Bucket=bucket, Key="cks2-copy", CopySource={"Bucket": bucket, "Key": "cks2"},
                          ChecksumAlgorithm="SHA256")
    assert resp["CopyObjectResult"].get("ChecksumSHA256") == s3util.sha256_b64(body)
    head = s3.head_object(Bucket=bucket, Key="cks2-copy", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == s3util.sha256_b64(body)


def test_copy_source_time_conditions(s3, src):
    import datetime
    bucket, key, body, etag = src
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst/t1", CopySource={"Bucket": bucket, "Key": key},
                       CopySourceIfUnmodifiedSince=past)
    assert error_of(ei)[:2] == ("PreconditionFailed", 412)
    s3.copy_object(Bucket=bucket, Key="dst/t2", CopySource={"Bucket": bucket, "Key": key},
                   CopySourceIfModifiedSince=past)
    assert s3.get_object(Bucket=bucket, Key="dst/t2")["Body"].read() == body
    s3.copy_object(Bucket=bucket, Key="dst/t3", CopySource={"Bucket": bucket, "Key": key},
                   CopySourceIfUnmodifiedSince=future)
    # "x-amz-copy-source-if-match condition evaluates to true, and;
    # x-amz-copy-source-if-unmodified-since condition evaluates to false;
    # Amazon S3 returns 200 OK and copies the data."
    s3.copy_object(Bucket=bucket, Key="dst/t4", CopySource={"Bucket": bucket, "Key": key},
                   CopySourceIfMatch=etag, CopySourceIfUnmodifiedSince=past)
    assert s3.get_object(Bucket=bucket, Key="dst/t4")["Body"].read() == body
