"""A sample suite using the s3twin pytest plugin's fixtures (run with -n 2 by packages/test.sh)."""

import os

import boto3
import pytest
from botocore.exceptions import ClientError

import s3twin

# AWS's documented example keys: the shape of real ones.
PROD_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
PROD_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _never_send(target):
    """Fails a request that got past the refusal instead of letting it reach the network."""

    def block(request, **_):
        raise AssertionError(f"would have sent {request.url}")

    events = target.meta.events if hasattr(target, "meta") else target.events
    events.register("before-send", block)
    return target


def test_put_and_get(s3_client, s3twin_server):
    s3_client.create_bucket(Bucket="invoices")
    s3_client.put_object(Bucket="invoices", Key="2026/inv-001.pdf", Body=b"%PDF-1.4")
    body = s3_client.get_object(Bucket="invoices", Key="2026/inv-001.pdf")["Body"].read()
    assert body == b"%PDF-1.4"


@pytest.mark.parametrize("n", range(6))
def test_every_test_gets_a_fresh_run(s3_client, s3twin_run, s3twin_server, n):
    assert s3_client.list_buckets()["Buckets"] == []
    s3_client.create_bucket(Bucket=f"bucket-{n}")
    assert [b["Name"] for b in s3_client.list_buckets()["Buckets"]] == [f"bucket-{n}"]
    assert s3twin_run.endpoint == f"{s3twin_server.endpoint}/t/{s3twin_run.run_id}"


def test_runs_are_dropped_after_the_test(s3twin_server):
    runs = s3twin_server.admin_get("/_s3twin/runs")["runs"]
    # Only the default run is left between tests on this worker.
    assert [r["runId"] for r in runs] == ["default"], runs


@pytest.mark.s3twin(seed="invoice-store")
def test_marker_seeds_the_run(s3_client):
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket="invoices")["Contents"]]
    assert keys, keys


def test_lifecycle_on_the_run_clock(s3_client, s3twin_run):
    s3_client.create_bucket(Bucket="temp-uploads")
    s3_client.put_bucket_lifecycle_configuration(
        Bucket="temp-uploads",
        LifecycleConfiguration={
            "Rules": [
                {"ID": "week", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 7}}
            ]
        },
    )
    s3_client.put_object(Bucket="temp-uploads", Key="a.csv", Body=b"x")
    assert s3_client.list_objects_v2(Bucket="temp-uploads")["KeyCount"] == 1
    out = s3twin_run.advance_clock("8d")
    assert out["lifecycle"]["expired"] == 1
    assert "Contents" not in s3_client.list_objects_v2(Bucket="temp-uploads")


def test_seed_reset_presign_and_request_log(s3twin_run, s3_client):
    s3twin_run.seed({"buckets": [{"name": "seeded", "objects": [{"key": "a.txt", "body": "hello"}]}]})
    assert s3_client.get_object(Bucket="seeded", Key="a.txt")["Body"].read() == b"hello"
    import urllib.request

    url = s3twin_run.presign("seeded", "a.txt", expires_in=60)
    assert urllib.request.urlopen(url).read() == b"hello"
    gets = s3twin_run.requests(operation="GetObject")
    assert [e["status"] for e in gets] == [200, 200]
    s3twin_run.reset()
    assert s3_client.list_buckets()["Buckets"] == []


def test_errors_are_s3s(s3_client):
    with pytest.raises(ClientError) as e:
        s3_client.get_object(Bucket="nope-bucket", Key="k")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def test_refusal_of_production_keys_for_aws(s3twin_run):
    client = s3twin_run.client(
        endpoint_url="https://s3.us-east-1.amazonaws.com",
        aws_access_key_id=PROD_KEY_ID,
        aws_secret_access_key=PROD_SECRET,
    )
    _never_send(client)
    with pytest.raises(s3twin.ProductionCallRefused) as e:
        client.list_buckets()
    msg = str(e.value)
    assert "refused to send ListBuckets to s3.us-east-1.amazonaws.com" in msg
    assert "AKIA…MPLE" in msg
    assert "allow_production=True" in msg and "S3TWIN_ALLOW_PRODUCTION=1" in msg


def test_refusal_on_any_boto3_client_and_session():
    plain = boto3.client(
        "s3",
        region_name="eu-west-1",
        aws_access_key_id=PROD_KEY_ID,
        aws_secret_access_key=PROD_SECRET,
    )
    s3twin.refuse_production(plain)
    _never_send(plain)
    with pytest.raises(s3twin.ProductionCallRefused, match=r"prod-bucket\.s3\.eu-west-1\.amazonaws\.com"):
        plain.put_object(Bucket="prod-bucket", Key="k", Body=b"x")
    session = s3twin.refuse_production(
        boto3.Session(aws_access_key_id=PROD_KEY_ID, aws_secret_access_key=PROD_SECRET, region_name="us-east-1")
    )
    _never_send(session)
    with pytest.raises(s3twin.ProductionCallRefused):
        session.client("s3").list_buckets()


def test_refusal_of_presigning_for_aws_with_production_keys(s3twin_run):
    client = s3twin_run.client(
        endpoint_url="https://s3.us-east-1.amazonaws.com",
        aws_access_key_id=PROD_KEY_ID,
        aws_secret_access_key=PROD_SECRET,
    )
    with pytest.raises(s3twin.ProductionCallRefused, match="refused to send GetObject"):
        client.generate_presigned_url("get_object", Params={"Bucket": "prod", "Key": "k"})
    # The twin's own presigned URLs are not affected.
    local = s3twin_run.client(aws_access_key_id=PROD_KEY_ID, aws_secret_access_key=PROD_SECRET)
    assert local.generate_presigned_url("get_object", Params={"Bucket": "b1", "Key": "k"}).startswith(
        s3twin_run.endpoint
    )


def test_production_shaped_keys_still_reach_the_twin(s3twin_run):
    client = s3twin_run.client(aws_access_key_id=PROD_KEY_ID, aws_secret_access_key=PROD_SECRET)
    client.create_bucket(Bucket="guarded")
    assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["guarded"]


def test_looks_like_production_keys():
    assert s3twin.looks_like_production_keys(PROD_KEY_ID, PROD_SECRET)
    assert s3twin.looks_like_production_keys("ASIAIOSFODNN7EXAMPLE", PROD_SECRET)
    assert not s3twin.looks_like_production_keys("parlel", "parlel")
    assert not s3twin.looks_like_production_keys(PROD_KEY_ID, "short")


def test_server_context_manager_and_run():
    with s3twin.Server(seed="invoice-store") as server:
        pid = server.pid
        # The preset went into the default run.
        health = server.admin_get("/_s3twin/health")
        assert health["buckets"] == 1
        run = server.run(run_id="ctx-run", seed="invoice-store")
        s3 = run.client()
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["invoices"]
        run.delete()
        server.reset()
        assert server.admin_get("/_s3twin/health")["buckets"] == 0
    # Leaving the block stopped the process.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_notification_log(s3_client, s3twin_run):
    arn = "arn:aws:sqs:us-east-1:000000000000:jobs"
    s3_client.create_bucket(Bucket="notified")
    s3_client.put_bucket_notification_configuration(
        Bucket="notified",
        NotificationConfiguration={
            "QueueConfigurations": [{"Id": "jobs", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    s3_client.put_object(Bucket="notified", Key="in/a.txt", Body=b"a")
    created = s3twin_run.notifications(eventName="ObjectCreated:*", wait=1)
    assert [(n["key"], n["status"]) for n in created] == [("in/a.txt", "undeliverable")]
