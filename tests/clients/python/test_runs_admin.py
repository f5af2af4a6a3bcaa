"""s3twin-specific surface: isolated runs (EP/t/<runId>), admin endpoints,
unimplemented operations and the error envelope's RequestId.

The error envelope itself is the one documented in the S3 API reference
("Error responses": Code, Message, RequestId, ... where RequestId is the ID
of the request, also returned as x-amz-request-id).
"""

import uuid

import pytest
from botocore.exceptions import ClientError

import s3util
from conftest import error_of, make_client, new_bucket_name


def test_health(endpoint):
    for path in ("/_s3twin/health", "/_parlel/health"):
        resp = s3util.admin(endpoint, "GET", path)
        assert resp.status == 200, (path, resp)
        assert resp.headers.get("content-type", "").startswith("application/json")
        data = resp.json()
        assert data["status"] == "ok"
        assert data["service"] == "s3"
        assert isinstance(data["buckets"], int) and data["buckets"] >= 0


def test_runs_are_isolated(run_factory):
    _, ep_a = run_factory("a")
    _, ep_b = run_factory("b")
    a, b = make_client(ep_a), make_client(ep_b)
    name = new_bucket_name("shared")
    a.create_bucket(Bucket=name)
    b.create_bucket(Bucket=name)  # same name, other namespace: no conflict
    a.put_object(Bucket=name, Key="only-in-a", Body=b"A")
    b.put_object(Bucket=name, Key="only-in-b", Body=b"B")
    b.put_object(Bucket=name, Key="both", Body=b"from b")
    a.put_object(Bucket=name, Key="both", Body=b"from a")

    assert [o["Key"] for o in a.list_objects_v2(Bucket=name)["Contents"]] == ["both", "only-in-a"]
    assert [o["Key"] for o in b.list_objects_v2(Bucket=name)["Contents"]] == ["both", "only-in-b"]
    assert a.get_object(Bucket=name, Key="both")["Body"].read() == b"from a"
    assert b.get_object(Bucket=name, Key="both")["Body"].read() == b"from b"
    with pytest.raises(ClientError) as ei:
        a.get_object(Bucket=name, Key="only-in-b")
    assert error_of(ei)[:2] == ("NoSuchKey", 404)

    only_a = new_bucket_name("onlya")
    a.create_bucket(Bucket=only_a)
    with pytest.raises(ClientError) as ei:
        b.head_bucket(Bucket=only_a)
    assert error_of(ei)[1] == 404
    assert sorted(x["Name"] for x in a.list_buckets()["Buckets"]) == sorted([name, only_a])
    assert [x["Name"] for x in b.list_buckets()["Buckets"]] == [name]


def test_run_is_isolated_from_default_namespace(s3, bucket, run_s3):
    s3.put_object(Bucket=bucket, Key="default-run", Body=b"x")
    with pytest.raises(ClientError) as ei:
        run_s3.head_bucket(Bucket=bucket)
    assert error_of(ei)[1] == 404
    assert bucket not in [x["Name"] for x in run_s3.list_buckets()["Buckets"]]


def test_reset_one_run_leaves_the_other(endpoint, run_factory):
    run_a, ep_a = run_factory("a")
    _, ep_b = run_factory("b")
    a, b = make_client(ep_a), make_client(ep_b)
    name = new_bucket_name()
    for c in (a, b):
        c.create_bucket(Bucket=name)
        c.put_object(Bucket=name, Key="k", Body=b"v")

    resp = s3util.admin(endpoint, "POST", f"/_s3twin/reset?runId={run_a}")
    assert resp.status in (200, 204), resp

    assert a.list_buckets()["Buckets"] == []
    with pytest.raises(ClientError) as ei:
        a.get_object(Bucket=name, Key="k")
    assert error_of(ei)[:2] == ("NoSuchBucket", 404)
    assert b.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
    # The reset run is usable again afterwards.
    a.create_bucket(Bucket=name)
    assert "Contents" not in a.list_objects_v2(Bucket=name)


def test_reset_alias_for_run(endpoint, run_factory):
    run_a, ep_a = run_factory("alias")
    a = make_client(ep_a)
    a.create_bucket(Bucket=new_bucket_name())
    resp = s3util.admin(endpoint, "POST", f"/_parlel/reset?runId={run_a}")
    assert resp.status in (200, 204), resp
    assert a.list_buckets()["Buckets"] == []


def test_reset_run_does_not_touch_default_namespace(endpoint, s3, bucket):
    s3.put_object(Bucket=bucket, Key="survivor", Body=b"x")
    resp = s3util.admin(endpoint, "POST", f"/_s3twin/reset?runId=unused-{uuid.uuid4().hex}")
    assert resp.status in (200, 204), resp
    assert s3.get_object(Bucket=bucket, Key="survivor")["Body"].read() == b"x"


def test_unimplemented_operation_is_501(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.get_object_torrent(Bucket=bucket, Key="k")
    code, status, _ = error_of(ei)
    assert (code, status) == ("NotImplemented", 501)


def _error_cases(s3, bucket):
    """Requests that fail in different layers, each as a thunk."""
    s3.put_object(Bucket=bucket, Key="obj", Body=b"0123456789")
    missing = new_bucket_name("missing")
    return [
        lambda: s3.get_object(Bucket=bucket, Key="missing"),
        lambda: s3.get_object(Bucket=missing, Key="k"),
        lambda: s3.get_object(Bucket=bucket, Key="obj", Range="bytes=100-"),
        lambda: s3.get_object(Bucket=bucket, Key="obj", IfMatch='"nope"'),
        lambda: s3.delete_bucket(Bucket=bucket),
        lambda: s3.list_objects_v2(Bucket=missing),
        lambda: s3.put_object(Bucket=bucket, Key="bad", Body=b"x", ContentMD5=s3util.md5_b64(b"y")),
        lambda: s3.get_bucket_policy_status(Bucket=bucket),
        lambda: s3.copy_object(Bucket=bucket, Key="obj", CopySource={"Bucket": bucket, "Key": "obj"}),
    ]


def test_error_request_id_matches_header(s3, bucket, raw_responses):
    rec = raw_responses(s3)
    cases = _error_cases(s3, bucket)
    for i, call in enumerate(cases):
        before = len(rec)
        with pytest.raises(ClientError) as ei:
            call()
        raw = rec[-1]
        assert len(rec) == before + 1
        header_id = raw["headers"].get("x-amz-request-id")
        assert header_id, f"case {i}: missing x-amz-request-id"
        root = s3util.ET.fromstring(raw["body"])
        assert s3util.strip_ns(root.tag) == "Error", f"case {i}"
        assert s3util.xml_child_text(root, "Code") == ei.value.response["Error"]["Code"]
        assert s3util.xml_child_text(root, "Message"), f"case {i}: empty Message"
        assert s3util.xml_child_text(root, "RequestId") == header_id, f"case {i}"
        assert ei.value.response["ResponseMetadata"]["RequestId"] == header_id
        assert raw["headers"].get("content-type", "").startswith("application/xml")


def test_request_ids_are_unique(s3, bucket, raw_responses):
    rec = raw_responses(s3)
    for _ in range(5):
        s3.list_objects_v2(Bucket=bucket)
    ids = [r["headers"].get("x-amz-request-id") for r in rec]
    assert all(ids)
    assert len(set(ids)) == len(ids)


def test_run_prefix_with_raw_path_style(endpoint, run_factory):
    # The run prefix composes with plain path-style URLs (any HTTP client).
    _, ep = run_factory("raw")
    name = new_bucket_name()
    assert s3util.raw_request("PUT", f"{ep}/{name}").status == 200
    assert s3util.raw_request("PUT", f"{ep}/{name}/a%20b.txt", body=b"hi").status == 200
    got = s3util.raw_request("GET", f"{ep}/{name}/a%20b.txt")
    assert (got.status, got.body) == (200, b"hi")
    # Not visible in the default namespace.
    assert s3util.raw_request("GET", f"{endpoint}/{name}/a%20b.txt").status == 404
