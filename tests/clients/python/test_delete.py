"""DeleteObject and DeleteObjects (multi-object delete).

References: DeleteObject and DeleteObjects API reference pages.
"""

import pytest
from botocore.exceptions import ClientError

import s3util
from conftest import error_of, new_bucket_name


def _keys(s3, bucket):
    pag = s3.get_paginator("list_objects_v2")
    return [o["Key"] for page in pag.paginate(Bucket=bucket) for o in page.get("Contents", [])]


def test_delete_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    resp = s3.delete_object(Bucket=bucket, Key="gone")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="gone")
    assert error_of(ei)[:2] == ("NoSuchKey", 404)


def test_delete_missing_key_is_idempotent(s3, bucket):
    resp = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    resp = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_object_missing_bucket(s3):
    with pytest.raises(ClientError) as ei:
        s3.delete_object(Bucket=new_bucket_name("missing"), Key="k")
    assert error_of(ei)[:2] == ("NoSuchBucket", 404)


def test_delete_objects_verbose(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    resp = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "not-there"}]},
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    # Verbose mode reports every key; a missing key is reported as deleted.
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["a", "b", "not-there"]
    assert not resp.get("Errors")
    assert _keys(s3, bucket) == ["c"]


def test_delete_objects_quiet(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    resp = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "c"}], "Quiet": True},
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    # "For a successful deletion in a quiet mode, the operation does not
    # return any information about the delete in the response body."
    assert not resp.get("Deleted")
    assert not resp.get("Errors")
    assert _keys(s3, bucket) == ["b"]


def test_delete_objects_thousand_keys(s3, bucket):
    keys = [f"bulk/{i:04d}" for i in range(1000)]
    # Use many single puts; keep them small.
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    assert len(_keys(s3, bucket)) == 1000
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]}
    )
    assert len(resp["Deleted"]) == 1000
    assert {d["Key"] for d in resp["Deleted"]} == set(keys)
    assert not resp.get("Errors")
    assert _keys(s3, bucket) == []


def test_delete_objects_more_than_thousand_is_rejected(s3_novalidate, bucket):
    # "The request can contain a list of up to 1,000 keys"; more is
    # MalformedXML.
    objs = [{"Key": f"k{i}"} for i in range(1001)]
    with pytest.raises(ClientError) as ei:
        s3_novalidate.delete_objects(Bucket=bucket, Delete={"Objects": objs})
    assert error_of(ei)[:2] == ("MalformedXML", 400)


def test_delete_objects_empty_list_is_malformed(s3_novalidate, bucket):
    with pytest.raises(ClientError) as ei:
        s3_novalidate.delete_objects(Bucket=bucket, Delete={"Objects": []})
    assert error_of(ei)[:2] == ("MalformedXML", 400)


def test_delete_objects_per_key_error(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ok", Body=b"1")
    s3.put_object(Bucket=bucket, Key="versioned?", Body=b"2")
    resp = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [
            {"Key": "ok"},
            {"Key": "versioned?", "VersionId": "abc"},  # no such version
        ]},
    )
    # The request as a whole succeeds; the bad entry is reported per key.
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [d["Key"] for d in resp.get("Deleted", [])] == ["ok"]
    errors = resp.get("Errors", [])
    assert len(errors) == 1, resp
    assert errors[0]["Key"] == "versioned?"
    assert errors[0]["Code"] in ("NoSuchVersion", "InvalidArgument")
    assert errors[0].get("Message")
    # The object whose delete failed is still there.
    assert s3.get_object(Bucket=bucket, Key="versioned?")["Body"].read() == b"2"


def test_delete_objects_quiet_still_reports_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    resp = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "x", "VersionId": "abc"}], "Quiet": True},
    )
    assert not resp.get("Deleted")
    assert [e["Key"] for e in resp.get("Errors", [])] == ["x"]


def test_delete_objects_missing_bucket(s3):
    with pytest.raises(ClientError) as ei:
        s3.delete_objects(Bucket=new_bucket_name("missing"), Delete={"Objects": [{"Key": "a"}]})
    assert error_of(ei)[:2] == ("NoSuchBucket", 404)


def test_delete_objects_special_keys(s3, bucket):
    keys = ["sp ace", "amp&lt;", "<tag>", "quote\"'", "ünï", "plus+%2F"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == sorted(keys)
    assert _keys(s3, bucket) == []


def _delete_xml(keys):
    inner = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return f'<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</Delete>'.encode()


def test_delete_objects_requires_integrity_header(endpoint, s3, bucket):
    # "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for
    # all Multi-Object Delete requests."
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    body = _delete_xml(["a"])
    resp = s3util.raw_request("POST", f"{endpoint}/{bucket}?delete", body=body,
                              headers={"Content-Type": "application/xml"})
    assert resp.status == 400, resp
    assert s3util.xml_child_text(resp.xml(), "Code") == "InvalidRequest"
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"1"

    # Same request with Content-MD5 works.
    resp = s3util.raw_request("POST", f"{endpoint}/{bucket}?delete", body=body,
                              headers={"Content-Type": "application/xml",
                                       "Content-MD5": s3util.md5_b64(body)})
    assert resp.status == 200, resp
    root = resp.xml()
    assert s3util.strip_ns(root.tag) == "DeleteResult"
    deleted = [s3util.xml_child_text(d, "Key") for d in root if s3util.strip_ns(d.tag) == "Deleted"]
    assert deleted == ["a"]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_delete_objects_wrong_content_md5(endpoint, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    body = _delete_xml(["a"])
    resp = s3util.raw_request("POST", f"{endpoint}/{bucket}?delete", body=body,
                              headers={"Content-MD5": s3util.md5_b64(b"other")})
    assert resp.status == 400, resp
    assert s3util.xml_child_text(resp.xml(), "Code") == "BadDigest"
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"1"
