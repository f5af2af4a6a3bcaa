"""GetObject / HeadObject: ranges, conditional reads, response overrides,
part numbers and error shapes.  References: GetObject and HeadObject API
reference pages, RFC 7232/7233 as cited there.
"""

import datetime
import email.utils

import pytest
from botocore.exceptions import ClientError

import s3util
from conftest import error_of, new_bucket_name

BODY = b"0123456789abcdefghijklmnopqrstuvwxyz"  # 36 bytes
N = len(BODY)


@pytest.fixture
def obj(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="obj.bin", Body=BODY, ContentType="text/plain")
    return bucket, "obj.bin", put["ETag"]


def test_range_first_bytes(s3, obj):
    bucket, key, _ = obj
    got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-4")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes 0-4/{N}"
    assert got["ContentLength"] == 5
    assert got["Body"].read() == BODY[0:5]


def test_range_middle_and_clamped_end(s3, obj):
    bucket, key, _ = obj
    got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert got["Body"].read() == BODY[10:20]
    assert got["ContentRange"] == f"bytes 10-19/{N}"
    # A last-byte-pos beyond the end is clamped to the object size (RFC 7233).
    got = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=30-{N + 100}")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes 30-{N - 1}/{N}"
    assert got["Body"].read() == BODY[30:]


def test_suffix_range(s3, obj):
    bucket, key, _ = obj
    got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=-3")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {N - 3}-{N - 1}/{N}"
    assert got["Body"].read() == BODY[-3:]


def test_open_ended_range(s3, obj):
    bucket, key, _ = obj
    got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=30-")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes 30-{N - 1}/{N}"
    assert got["Body"].read() == BODY[30:]


def test_range_head_object(s3, obj):
    bucket, key, _ = obj
    head = s3.head_object(Bucket=bucket, Key=key, Range="bytes=2-5")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == 4
    assert head["ContentRange"] == f"bytes 2-5/{N}"


def test_unsatisfiable_range(s3, obj):
    bucket, key, _ = obj
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={N}-")
    code, status, _ = error_of(ei)
    assert (code, status) == ("InvalidRange", 416)
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={N + 50}-{N + 60}")
    code, status, _ = error_of(ei)
    assert (code, status) == ("InvalidRange", 416)


def test_if_none_match_current_etag_is_304(s3, obj, raw_responses):
    bucket, key, etag = obj
    rec = raw_responses(s3)
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, IfNoneMatch=etag)
    code, status, _ = error_of(ei)
    assert (code, status) == ("304", 304)
    # RFC 7232 §4.1: a 304 carries no body but does carry the ETag.
    assert rec[-1]["body"] == b""
    assert rec[-1]["headers"].get("etag") == etag
    # A different ETag → 200 with the body.
    got = s3.get_object(Bucket=bucket, Key=key, IfNoneMatch='"00000000000000000000000000000000"')
    assert got["Body"].read() == BODY


def test_if_match(s3, obj):
    bucket, key, etag = obj
    got = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)
    assert got["Body"].read() == BODY
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, IfMatch='"00000000000000000000000000000000"')
    code, status, _ = error_of(ei)
    assert (code, status) == ("PreconditionFailed", 412)
    # HEAD: same precondition, no body → code is the status.
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key, IfMatch='"00000000000000000000000000000000"')
    assert error_of(ei)[1] == 412


def test_if_modified_since(s3, obj):
    bucket, key, _ = obj
    lm = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
    past = lm - datetime.timedelta(days=1)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    # Modified since yesterday → 200.
    assert s3.get_object(Bucket=bucket, Key=key, IfModifiedSince=past)["Body"].read() == BODY
    # Not modified since its own Last-Modified → 304.
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, IfModifiedSince=lm)
    assert error_of(ei)[:2] == ("304", 304)
    # A date after the server's now is ignored, as AWS (and RFC 9110) ignore
    # it: the object comes back, not a 304.
    assert s3.get_object(Bucket=bucket, Key=key, IfModifiedSince=future)["Body"].read() == BODY


def test_if_unmodified_since(s3, obj):
    bucket, key, _ = obj
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    assert s3.get_object(Bucket=bucket, Key=key, IfUnmodifiedSince=future)["Body"].read() == BODY
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, IfUnmodifiedSince=past)
    code, status, _ = error_of(ei)
    assert (code, status) == ("PreconditionFailed", 412)


def test_if_match_true_and_unmodified_since_false_returns_200(s3, obj):
    # "If both of the If-Match and If-Unmodified-Since headers are present
    # ... If-Match condition evaluates to true, and; If-Unmodified-Since
    # condition evaluates to false; then, S3 returns 200 OK".
    bucket, key, etag = obj
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    got = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag, IfUnmodifiedSince=past)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == BODY


def test_if_none_match_false_and_modified_since_true_returns_304(s3, obj):
    # "If-None-Match condition evaluates to false, and; If-Modified-Since
    # condition evaluates to true; then, S3 returns 304 Not Modified".
    bucket, key, etag = obj
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, IfNoneMatch=etag, IfModifiedSince=past)
    assert error_of(ei)[:2] == ("304", 304)


EXPIRES = datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)


def test_response_header_overrides(s3, obj):
    bucket, key, _ = obj
    got = s3.get_object(
        Bucket=bucket, Key=key,
        ResponseContentType="application/x-override",
        ResponseContentDisposition='attachment; filename="x.bin"',
        ResponseCacheControl="no-cache",
        ResponseContentLanguage="fr",
        ResponseContentEncoding="identity",
        ResponseExpires=EXPIRES,
    )
    assert got["ContentType"] == "application/x-override"
    assert got["ContentDisposition"] == 'attachment; filename="x.bin"'
    assert got["CacheControl"] == "no-cache"
    assert got["ContentLanguage"] == "fr"
    assert got["ContentEncoding"] == "identity"
    assert email.utils.parsedate_to_datetime(got["ExpiresString"]) == EXPIRES
    assert got["Body"].read() == BODY
    # Overrides affect only that response; the stored object is unchanged.
    assert s3.head_object(Bucket=bucket, Key=key)["ContentType"] == "text/plain"


def test_part_number_on_single_part_object(s3, obj):
    bucket, key, etag = obj
    got = s3.get_object(Bucket=bucket, Key=key, PartNumber=1)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == BODY
    assert got["ContentLength"] == N
    assert got["ContentRange"] == f"bytes 0-{N - 1}/{N}"
    assert got["ETag"] == etag


def test_part_number_out_of_range_on_single_part_object(s3, obj):
    bucket, key, _ = obj
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, PartNumber=2)
    code, status, _ = error_of(ei)
    # A single-part object has exactly one part.  Public reports of real S3
    # differ on the exact error (416 InvalidPartNumber "The requested
    # partnumber is not satisfiable" vs 400 InvalidPart); either is an error,
    # never a body.
    assert (code, status) in (("InvalidPartNumber", 416), ("InvalidPart", 400))


def test_missing_key_is_no_such_key_with_key(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="nope/missing.txt")
    code, status, err = error_of(ei)
    assert (code, status) == ("NoSuchKey", 404)
    assert err.get("Key") == "nope/missing.txt"
    assert err.get("Message")


def test_missing_bucket_is_no_such_bucket(s3):
    name = new_bucket_name("missing")
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=name, Key="k")
    code, status, err = error_of(ei)
    assert (code, status) == ("NoSuchBucket", 404)
    assert err.get("BucketName") == name


def test_head_missing_key_is_404_without_body(s3, bucket, raw_responses):
    rec = raw_responses(s3)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="missing")
    code, status, _ = error_of(ei)
    assert (code, status) == ("404", 404)
    assert rec[-1]["status"] == 404
    assert rec[-1]["body"] == b""
    assert rec[-1]["headers"].get("x-amz-request-id")


def test_head_object_fields(s3, obj):
    bucket, key, etag = obj
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["ContentLength"] == N
    assert head["ETag"] == etag
    assert head["ContentType"] == "text/plain"
    assert head["AcceptRanges"] == "bytes"
    assert isinstance(head["LastModified"], datetime.datetime)
    # Last-Modified has one-second resolution and is recent.
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - head["LastModified"]).total_seconds()) < 600
    assert s3util.md5_hex(BODY) in etag


def test_head_conditional_not_modified(s3, obj):
    bucket, key, etag = obj
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key, IfNoneMatch=etag)
    assert error_of(ei)[:2] == ("304", 304)
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key, IfUnmodifiedSince=past)
    assert error_of(ei)[1] == 412
    assert s3.head_object(Bucket=bucket, Key=key, IfMatch=etag)["ETag"] == etag


def test_head_unsatisfiable_range(s3, obj):
    # HeadObject: "If the Range is not satisfiable, S3 returns a 416".
    bucket, key, _ = obj
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key, Range=f"bytes={N + 10}-")
    assert error_of(ei)[1] == 416
