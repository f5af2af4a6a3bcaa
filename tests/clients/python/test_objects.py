"""PutObject / HeadObject / GetObject basics, checksums and conditional writes.

References: PutObject, GetObject, HeadObject, GetObjectTagging API
reference pages; "Working with object metadata" and "Checking object
integrity" in the S3 user guide.
"""

import base64
import datetime
import email.header
import email.utils
import gzip
import hashlib

import pytest
from botocore.exceptions import ClientError

import s3util
from conftest import error_of


def _decode_rfc2047(value):
    return str(email.header.make_header(email.header.decode_header(value)))


def test_put_get_roundtrip_etag_is_md5(s3, bucket):
    body = b"hello, s3twin\n" * 10
    put = s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=body)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    # For a single-part, non-KMS object the ETag is the quoted MD5 hex digest.
    assert put["ETag"] == f'"{s3util.md5_hex(body)}"'
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == len(body)
    assert isinstance(got["LastModified"], datetime.datetime)
    assert got["AcceptRanges"] == "bytes"


def test_empty_object(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0
    assert got["Body"].read() == b""


def test_overwrite_replaces_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"v": "1"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"second!")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second!"
    assert got["Metadata"] == {}


def test_standard_headers_and_metadata_roundtrip(s3, bucket):
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    body = gzip.compress(b'{"a": 1}', mtime=0)
    s3.put_object(
        Bucket=bucket, Key="doc.json", Body=body,
        ContentType="application/json; charset=utf-8",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="doc.json"',
        ContentLanguage="en-GB",
        CacheControl="max-age=60, public",
        Expires=expires,
        Metadata={"Color": "Blue", "project-id": "42"},
    )
    for resp in (s3.head_object(Bucket=bucket, Key="doc.json"),
                 s3.get_object(Bucket=bucket, Key="doc.json")):
        assert resp["ContentType"] == "application/json; charset=utf-8"
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentDisposition"] == 'attachment; filename="doc.json"'
        assert resp["ContentLanguage"] == "en-GB"
        assert resp["CacheControl"] == "max-age=60, public"
        assert email.utils.parsedate_to_datetime(resp["ExpiresString"]) == expires
        # S3 stores user-defined metadata keys in lowercase.
        assert resp["Metadata"] == {"color": "Blue", "project-id": "42"}
        assert resp["ContentLength"] == len(body)
    # The stored bytes are served as is (S3 never decodes Content-Encoding).
    assert s3.get_object(Bucket=bucket, Key="doc.json")["Body"].read() == body


def test_default_content_type(s3, bucket):
    # botocore sends no Content-Type for a bytes body; S3 then serves the
    # object with its default type, binary/octet-stream.
    s3.put_object(Bucket=bucket, Key="noct", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="noct")["ContentType"] == "binary/octet-stream"


def test_metadata_rfc2047_encoded_value_roundtrip(s3, bucket):
    # boto3 refuses raw non-ASCII metadata values client-side, so an SDK user
    # sends the RFC 2047 form.  AWS: values are "character decoded as per
    # RFC 2047 before storing and encoded as per RFC 2047 to make them
    # mail-safe before returning".  Whatever the encoding choice, the value
    # returned must be ASCII and decode to the original text.
    original = "héllo wörld ✓ 日本語"
    encoded = "=?UTF-8?B?" + base64.b64encode(original.encode("utf-8")).decode() + "?="
    s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"title": encoded, "plain": "ascii ok"})
    for resp in (s3.head_object(Bucket=bucket, Key="meta"),
                 s3.get_object(Bucket=bucket, Key="meta")):
        value = resp["Metadata"]["title"]
        value.encode("ascii")
        assert _decode_rfc2047(value) == original
        # ASCII-only values are presented as is.
        assert resp["Metadata"]["plain"] == "ascii ok"


def test_metadata_raw_utf8_header_returned_rfc2047(endpoint, s3, bucket):
    # A raw HTTP client may put UTF-8 bytes in an x-amz-meta-* header; S3
    # returns such values RFC 2047-encoded ("=?UTF-8?B?...?=") so they are
    # mail-safe ASCII.  boto3 hands the encoded string back unchanged.
    original = "Grüße ✓"
    resp = s3util.raw_request(
        "PUT", f"{endpoint}/{bucket}/rawmeta", body=b"payload",
        headers={"x-amz-meta-greeting": original, "x-amz-meta-plain": "abc"},
    )
    assert resp.status == 200, resp
    head = s3.head_object(Bucket=bucket, Key="rawmeta")
    value = head["Metadata"]["greeting"]
    value.encode("ascii")  # must be mail-safe
    assert value.upper().startswith("=?UTF-8?"), value
    assert _decode_rfc2047(value) == original
    assert head["Metadata"]["plain"] == "abc"
    assert s3.get_object(Bucket=bucket, Key="rawmeta")["Body"].read() == b"payload"


def test_storage_class_reported(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    s3.put_object(Bucket=bucket, Key="std", Body=b"y")
    assert s3.head_object(Bucket=bucket, Key="ia")["StorageClass"] == "STANDARD_IA"
    assert s3.get_object(Bucket=bucket, Key="ia")["StorageClass"] == "STANDARD_IA"
    # "Amazon S3 returns this header for all objects except for S3 Standard
    # storage class objects."
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="std")
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"ia": "STANDARD_IA", "std": "STANDARD"}
    listed_v1 = {o["Key"]: o["StorageClass"] for o in s3.list_objects(Bucket=bucket)["Contents"]}
    assert listed_v1 == {"ia": "STANDARD_IA", "std": "STANDARD"}


def test_invalid_storage_class(s3_novalidate, bucket):
    with pytest.raises(ClientError) as ei:
        s3_novalidate.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="BOGUS")
    code, status, _ = error_of(ei)
    assert (code, status) == ("InvalidStorageClass", 400)


def test_tagging_on_put(s3, bucket):
    s3.put_object(Bucket=bucket, Key="tagged", Body=b"x", Tagging="a=1&b=2")
    got = s3.get_object(Bucket=bucket, Key="tagged")
    assert got["TagCount"] == 2
    tags = s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")]
    # An untagged object has no tag count.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="plain")


def test_content_md5_correct(s3, bucket):
    body = b"integrity matters"
    put = s3.put_object(Bucket=bucket, Key="md5ok", Body=body, ContentMD5=s3util.md5_b64(body))
    assert put["ETag"] == f'"{s3util.md5_hex(body)}"'


def test_content_md5_mismatch_is_bad_digest(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="md5bad", Body=b"actual body",
                      ContentMD5=s3util.md5_b64(b"some other body"))
    code, status, _ = error_of(ei)
    assert (code, status) == ("BadDigest", 400)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="md5bad")
    assert error_of(ei)[1] == 404


@pytest.mark.parametrize("bad_md5", [
    "not-base64!!",
    base64.b64encode(b"short").decode(),          # valid base64, 5 bytes
    base64.b64encode(b"x" * 20).decode(),         # valid base64, 20 bytes
])
def test_content_md5_malformed_is_invalid_digest(s3, bucket, bad_md5):
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="md5inv", Body=b"body", ContentMD5=bad_md5)
    code, status, _ = error_of(ei)
    assert (code, status) == ("InvalidDigest", 400)


@pytest.mark.parametrize("algo,field,fn", [
    ("SHA256", "ChecksumSHA256", s3util.sha256_b64),
    ("SHA1", "ChecksumSHA1", s3util.sha1_b64),
    ("CRC32", "ChecksumCRC32", s3util.crc32_b64),
])
def test_checksum_algorithm_roundtrip(s3, bucket, algo, field, fn):
    body = b"checksum me " * 100
    expected = fn(body)
    put = s3.put_object(Bucket=bucket, Key=f"ck-{algo}", Body=body, ChecksumAlgorithm=algo)
    assert put[field] == expected
    got = s3.get_object(Bucket=bucket, Key=f"ck-{algo}", ChecksumMode="ENABLED")
    assert got[field] == expected
    assert got["Body"].read() == body
    head = s3.head_object(Bucket=bucket, Key=f"ck-{algo}", ChecksumMode="ENABLED")
    assert head[field] == expected
    # Single PUT objects carry a full-object checksum.
    assert head.get("ChecksumType") == "FULL_OBJECT"


@pytest.mark.parametrize("field,fn", [
    ("ChecksumCRC32C", s3util.crc32c_b64),
    ("ChecksumCRC64NVME", s3util.crc64nvme_b64),
    ("ChecksumSHA256", s3util.sha256_b64),
])
def test_client_supplied_checksum_value_roundtrip(s3, bucket, field, fn):
    # The caller computes the checksum itself (x-amz-checksum-* header).
    body = b"precomputed checksum body"
    value = fn(body)
    put = s3.put_object(Bucket=bucket, Key=f"pre-{field}", Body=body, **{field: value})
    assert put[field] == value
    head = s3.head_object(Bucket=bucket, Key=f"pre-{field}", ChecksumMode="ENABLED")
    assert head[field] == value


@pytest.mark.parametrize("field,fn", [
    ("ChecksumCRC32", s3util.crc32_b64),
    ("ChecksumCRC32C", s3util.crc32c_b64),
    ("ChecksumSHA256", s3util.sha256_b64),
])
def test_wrong_checksum_value_is_bad_digest(s3, bucket, field, fn):
    body = b"the real body"
    wrong = fn(b"a different body")
    assert wrong != fn(body)
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="badck", Body=body, **{field: wrong})
    code, status, _ = error_of(ei)
    assert (code, status) == ("BadDigest", 400)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="badck")
    assert error_of(ei)[1] == 404


def test_checksum_not_returned_without_checksum_mode(s3, client_factory, bucket):
    s3.put_object(Bucket=bucket, Key="nomode", Body=b"abc", ChecksumAlgorithm="SHA256")
    # boto3 >= 1.36 sends x-amz-checksum-mode: ENABLED by default ("when_supported");
    # only with "when_required" does it leave the header out.
    plain = client_factory(response_checksum_validation="when_required")
    got = plain.get_object(Bucket=bucket, Key="nomode")
    assert "ChecksumSHA256" not in got
    assert "x-amz-checksum-sha256" not in got["ResponseMetadata"]["HTTPHeaders"]
    with_mode = plain.get_object(Bucket=bucket, Key="nomode", ChecksumMode="ENABLED")
    assert with_mode["ChecksumSHA256"] == s3util.b64(hashlib.sha256(b"abc").digest())


def test_conditional_write_if_none_match(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="once", Body=b"v1", IfNoneMatch="*")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="once", Body=b"v2", IfNoneMatch="*")
    code, status, _ = error_of(ei)
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"v1"


def test_conditional_write_if_match(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="cas", Body=b"v1")
    wrong = '"' + hashlib.md5(b"nope").hexdigest() + '"'
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="cas", Body=b"v2", IfMatch=wrong)
    code, status, _ = error_of(ei)
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="cas")["Body"].read() == b"v1"

    ok = s3.put_object(Bucket=bucket, Key="cas", Body=b"v2", IfMatch=put["ETag"])
    assert ok["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ok["ETag"] == f'"{s3util.md5_hex(b"v2")}"'
    assert s3.get_object(Bucket=bucket, Key="cas")["Body"].read() == b"v2"


def test_key_with_special_characters(s3, bucket):
    keys = [
        "spaces in name.txt",
        "unicode/ünïcödé/日本語.txt",
        "plus+and%percent",
        "question?hash#amp&eq=",
        "trailing/slash/",
        "emoji \U0001F600",
        "a//double//slash",
    ]
    for i, k in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=k, Body=f"body-{i}".encode())
    for i, k in enumerate(keys):
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == f"body-{i}".encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == s3util.utf8_sorted(keys)


def test_get_object_tagging_missing_key(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    code, status, _ = error_of(ei)
    assert (code, status) == ("NoSuchKey", 404)


def test_key_length_limit(s3, bucket):
    # "The name for a key is a sequence of Unicode characters whose UTF-8
    # encoding is at most 1,024 bytes long."  Longer → KeyTooLongError.
    ok_key = "k/" + "é" * 511  # 2 + 1022 = 1024 bytes
    assert len(ok_key.encode()) == 1024
    s3.put_object(Bucket=bucket, Key=ok_key, Body=b"max")
    assert s3.get_object(Bucket=bucket, Key=ok_key)["Body"].read() == b"max"
    long_key = ok_key + "x"
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key=long_key, Body=b"too long")
    assert error_of(ei)[:2] == ("KeyTooLongError", 400)


def test_user_metadata_size_limit(s3, bucket):
    # "The user-defined metadata is limited to 2 KB in size" (sum of the
    # UTF-8 bytes of keys and values) → MetadataTooLarge.
    s3.put_object(Bucket=bucket, Key="meta-ok", Body=b"x", Metadata={"a": "v" * 1000})
    assert s3.head_object(Bucket=bucket, Key="meta-ok")["Metadata"]["a"] == "v" * 1000
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="meta-big", Body=b"x",
                      Metadata={"a": "v" * 1500, "b": "w" * 1500})
    assert error_of(ei)[:2] == ("MetadataTooLarge", 400)
