"""Bucket operations, checked against the AWS S3 API reference.

References: CreateBucket, ListBuckets, HeadBucket, GetBucketLocation,
DeleteBucket, and the "Bucket naming rules" page of the S3 user guide.
"""

import datetime
import uuid

import pytest
from botocore.exceptions import ClientError

import s3util
from conftest import error_of, make_client, new_bucket_name


def test_create_head_list_bucket(s3, bucket):
    # ListBuckets returns the bucket, a creation date, and an Owner with ID.
    resp = s3.list_buckets()
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    names = [b["Name"] for b in resp["Buckets"]]
    assert bucket in names
    entry = next(b for b in resp["Buckets"] if b["Name"] == bucket)
    assert isinstance(entry["CreationDate"], datetime.datetime)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - entry["CreationDate"]).total_seconds()) < 600
    assert resp["Owner"]["ID"], "ListBuckets must report the owner ID"

    # HeadBucket: 200 and x-amz-bucket-region header (us-east-1 here).
    head = s3.head_bucket(Bucket=bucket)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert head["BucketRegion"] == "us-east-1"


def test_create_bucket_returns_location(s3):
    name = new_bucket_name()
    try:
        resp = s3.create_bucket(Bucket=name)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        # CreateBucket response: Location header "/bucket-name" (path style).
        assert resp["Location"] == f"/{name}"
    finally:
        s3.delete_bucket(Bucket=name)


def test_head_missing_bucket_is_404_without_body(s3):
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=new_bucket_name("missing"))
    code, status, _ = error_of(ei)
    assert status == 404
    # HEAD responses carry no body, so botocore can only report the status.
    assert code == "404"


def test_get_bucket_location_us_east_1_is_empty(s3, bucket):
    # "Buckets in Region us-east-1 have a LocationConstraint of null."
    resp = s3.get_bucket_location(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp.get("LocationConstraint") in (None, "")


def test_recreate_owned_bucket_in_us_east_1_succeeds(s3, bucket):
    # BucketAlreadyOwnedByYou: "Amazon S3 returns this error in all AWS
    # Regions except in the North Virginia Region. For legacy compatibility,
    # if you re-create an existing bucket that you already own in the North
    # Virginia Region, Amazon S3 returns 200 OK".
    s3.put_object(Bucket=bucket, Key="keep", Body=b"data")
    resp = s3.create_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    # ... and the existing bucket (with its objects) is untouched.
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"data"


def test_recreate_owned_bucket_outside_us_east_1_conflicts(run_s3):
    name = new_bucket_name()
    cfg = {"LocationConstraint": "eu-west-1"}
    run_s3.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
    loc = run_s3.get_bucket_location(Bucket=name)
    assert loc["LocationConstraint"] == "eu-west-1"
    with pytest.raises(ClientError) as ei:
        run_s3.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
    code, status, _ = error_of(ei)
    assert (code, status) == ("BucketAlreadyOwnedByYou", 409)


def test_location_constraint_us_east_1_is_rejected(run_s3):
    # us-east-1 is expressed by omitting the constraint; S3 answers an explicit
    # "us-east-1" LocationConstraint with 400 InvalidLocationConstraint.
    name = new_bucket_name()
    with pytest.raises(ClientError) as ei:
        run_s3.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"}
        )
    code, status, _ = error_of(ei)
    assert (code, status) == ("InvalidLocationConstraint", 400)


INVALID_NAMES = [
    "UPPERcase-bucket",          # uppercase letters
    "ab",                        # shorter than 3
    "a" * 64,                    # longer than 63
    "a..b-bucket",               # two adjacent periods
    "192.168.1.1",               # formatted as an IP address
    "-abc-bucket",               # must begin with a letter or number
    "abc-bucket-",               # must end with a letter or number
    "xn--abc-bucket",            # reserved prefix xn--
    "sthree-abc-bucket",         # reserved prefix sthree-
    "abc-bucket-s3alias",        # reserved suffix -s3alias
    "abc_bucket",                # underscore not allowed
]


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_bucket_names_rejected(s3_novalidate, name):
    try:
        with pytest.raises(ClientError) as ei:
            s3_novalidate.create_bucket(Bucket=name)
    except BaseException:
        # The server wrongly created it: clean up, then report.
        try:
            s3_novalidate.delete_bucket(Bucket=name)
        except Exception:
            pass
        raise
    code, status, _ = error_of(ei)
    assert (code, status) == ("InvalidBucketName", 400), name


def test_delete_non_empty_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=bucket)
    code, status, err = error_of(ei)
    assert (code, status) == ("BucketNotEmpty", 409)
    assert err.get("BucketName") == bucket
    # still there
    s3.head_bucket(Bucket=bucket)


def test_delete_bucket_then_gone(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    resp = s3.delete_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert error_of(ei)[1] == 404
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_delete_missing_bucket(s3):
    name = new_bucket_name("missing")
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=name)
    code, status, err = error_of(ei)
    assert (code, status) == ("NoSuchBucket", 404)
    assert err.get("BucketName") == name


def test_operations_on_missing_bucket(s3):
    name = new_bucket_name("missing")
    for call in (
        lambda: s3.list_objects_v2(Bucket=name),
        lambda: s3.list_objects(Bucket=name),
        lambda: s3.put_object(Bucket=name, Key="k", Body=b"x"),
        lambda: s3.get_bucket_location(Bucket=name),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        code, status, _ = error_of(ei)
        assert (code, status) == ("NoSuchBucket", 404)


def test_malformed_create_bucket_xml(endpoint, s3):
    name = new_bucket_name()
    resp = s3util.raw_request(
        "PUT", f"{endpoint}/{name}",
        body=b"<CreateBucketConfiguration><LocationConstraint>",
        headers={"Content-Type": "application/xml"},
    )
    assert resp.status == 400, resp
    root = resp.xml()
    assert s3util.strip_ns(root.tag) == "Error"
    assert s3util.xml_child_text(root, "Code") == "MalformedXML"
    assert s3util.xml_child_text(root, "Message")
    assert s3util.xml_child_text(root, "RequestId") == resp.headers.get("x-amz-request-id")
    # The bucket must not have been created.
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert error_of(ei)[1] == 404


def test_list_buckets_prefix_and_paging(run_s3):
    prefix = "pg-" + uuid.uuid4().hex[:8]
    mine = sorted(f"{prefix}-{i:02d}-{uuid.uuid4().hex[:6]}" for i in range(5))
    others = [f"zz-{uuid.uuid4().hex[:10]}", f"aa-{uuid.uuid4().hex[:10]}"]
    for n in mine + others:
        run_s3.create_bucket(Bucket=n)

    # The run is private, so an unfiltered list is exactly what we created,
    # in alphabetical order.
    everything = run_s3.list_buckets()
    assert [b["Name"] for b in everything["Buckets"]] == sorted(mine + others)
    assert everything["Owner"]["ID"]
    assert "ContinuationToken" not in everything

    # Prefix filters and is echoed back.
    resp = run_s3.list_buckets(Prefix=prefix)
    assert [b["Name"] for b in resp["Buckets"]] == mine
    assert resp.get("Prefix") == prefix

    # MaxBuckets + ContinuationToken paging.
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxBuckets": 2, "Prefix": prefix}
        if token:
            kw["ContinuationToken"] = token
        page = run_s3.list_buckets(**kw)
        pages += 1
        assert len(page["Buckets"]) <= 2
        seen += [b["Name"] for b in page["Buckets"]]
        token = page.get("ContinuationToken")
        if not token:
            break
        assert pages < 10, "paging does not terminate"
    assert seen == mine
    assert pages == 3

    # The boto3 paginator walks the same pages.
    pag = run_s3.get_paginator("list_buckets")
    names = [b["Name"] for p in pag.paginate(PaginationConfig={"PageSize": 3})
             for b in p["Buckets"]]
    assert names == sorted(mine + others)


def test_list_buckets_in_empty_run(run_s3):
    resp = run_s3.list_buckets()
    assert resp["Buckets"] == []
    assert resp["Owner"]["ID"]


def test_list_buckets_bucket_region_with_parameters(run_s3):
    # Bucket.BucketRegion: "If the request contains at least one valid
    # parameter, it is included in the response."
    p = "rg-" + uuid.uuid4().hex[:8]
    east, west = f"{p}-east", f"{p}-west"
    run_s3.create_bucket(Bucket=east)
    run_s3.create_bucket(Bucket=west, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    resp = run_s3.list_buckets(Prefix=p, MaxBuckets=10)
    regions = {b["Name"]: b.get("BucketRegion") for b in resp["Buckets"]}
    assert regions == {east: "us-east-1", west: "eu-west-1"}
