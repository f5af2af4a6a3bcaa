"""Virtual-hosted-style requests: http://{bucket}.localhost:PORT/{key}.

Reference: "Virtual hosting of buckets" in the S3 user guide.  glibc does not
resolve *.localhost, so the fixture maps those names to 127.0.0.1.
"""

import urllib.parse

import pytest
from botocore.exceptions import ClientError

import s3util
from conftest import empty_and_delete_bucket, error_of, make_client, new_bucket_name


@pytest.fixture
def vhost(endpoint, localhost_wildcard_dns):
    port = urllib.parse.urlsplit(endpoint).port
    ep = f"http://localhost:{port}"
    client = make_client(ep, addressing_style="virtual")
    created = []
    yield client, ep, port, created
    for name in created:
        empty_and_delete_bucket(client, name)


def test_virtual_host_requests_use_bucket_subdomain(vhost):
    client, _, port, created = vhost
    hosts = []
    client.meta.events.register("before-send.s3.*", lambda request, **kw: hosts.append(
        (urllib.parse.urlsplit(request.url).netloc, urllib.parse.urlsplit(request.url).path)))
    name = new_bucket_name("vh")
    client.create_bucket(Bucket=name)
    created.append(name)
    # Really virtual-hosted: the bucket is in the Host, not in the path.
    assert hosts[-1][0] == f"{name}.localhost:{port}"
    assert hosts[-1][1] in ("", "/")


def test_virtual_host_crud(vhost, s3):
    client, _, _, created = vhost
    name = new_bucket_name("vh")
    client.create_bucket(Bucket=name)
    created.append(name)
    client.head_bucket(Bucket=name)
    put = client.put_object(Bucket=name, Key="dir/hello world.txt", Body=b"vhost body",
                            Metadata={"via": "vhost"})
    assert put["ETag"] == f'"{s3util.md5_hex(b"vhost body")}"'
    got = client.get_object(Bucket=name, Key="dir/hello world.txt")
    assert got["Body"].read() == b"vhost body"
    assert got["Metadata"] == {"via": "vhost"}
    client.put_object(Bucket=name, Key="other", Body=b"2")
    listed = client.list_objects_v2(Bucket=name)
    assert [o["Key"] for o in listed["Contents"]] == ["dir/hello world.txt", "other"]
    assert listed["Name"] == name
    v1 = client.list_objects(Bucket=name, Delimiter="/")
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["dir/"]
    # Same bucket, same data through path style.
    assert s3.get_object(Bucket=name, Key="other")["Body"].read() == b"2"
    client.delete_object(Bucket=name, Key="other")
    with pytest.raises(ClientError) as ei:
        client.get_object(Bucket=name, Key="other")
    assert error_of(ei)[:2] == ("NoSuchKey", 404)


def test_virtual_host_missing_bucket(vhost):
    client, _, _, _ = vhost
    name = new_bucket_name("vhmissing")
    with pytest.raises(ClientError) as ei:
        client.list_objects_v2(Bucket=name)
    code, status, err = error_of(ei)
    assert (code, status) == ("NoSuchBucket", 404)
    assert err.get("BucketName") == name


def test_virtual_host_list_buckets_on_bare_host(vhost, s3):
    # ListBuckets goes to the service host itself (no bucket subdomain).
    client, _, _, created = vhost
    name = new_bucket_name("vh")
    client.create_bucket(Bucket=name)
    created.append(name)
    assert name in [b["Name"] for b in client.list_buckets()["Buckets"]]
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
