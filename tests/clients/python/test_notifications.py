"""Event notifications with boto3: a real HTTP webhook receiver (http.server in
a thread) gets the records of PUT, COPY, multipart Complete, DELETE (plain and
versioned), tagging, restore and lifecycle expiration after a clock advance.

Each record is checked field by field against AWS's "Event message structure"
(S3 User Guide): eventVersion 2.1 (2.3 for lifecycle, tagging, ACL and restore
expiry), eventSource aws:s3, awsRegion, eventTime (ISO-8601 with
milliseconds), eventName without the "s3:" prefix, userIdentity.principalId,
requestParameters.sourceIPAddress, responseElements x-amz-request-id /
x-amz-id-2 (the request's own), s3.s3SchemaVersion "1.0",
s3.configurationId, s3.bucket name / ownerIdentity / arn, s3.object key
(URL-encoded), size, eTag, versionId (versioned buckets), sequencer (hex,
ordering a key's events); lifecycle events name s3.amazonaws.com as principal
and source; ObjectRestore:Completed carries glacierEventData.restoreEventData.
The delivery log's wait form keeps the tests free of sleeps.
"""

import json
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ENDPOINT, make_client

QUEUE = "arn:aws:sqs:us-east-1:000000000000:py-events"


def admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(ENDPOINT + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Receiver:
    """A webhook: records every POST, answers the statuses of `script` in
    turn, then 200."""

    def __init__(self, script=()):
        self.got = []
        self.script = list(script)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.got.append({"path": self.path,
                                  "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "body": json.loads(body)})
                status = outer.script.pop(0) if outer.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self):
        return [g["body"] for g in self.got]


@pytest.fixture
def receiver():
    made = []

    def _make(script=()):
        r = Receiver(script)
        made.append(r)
        return r

    yield _make
    for r in made:
        r.close()


def log_after(run_id, n, extra=""):
    status, body = admin("GET", f"/_s3twin/notifications?runId={run_id}&wait={n}&timeout=10s{extra}")
    assert status == 200, body
    assert body["settled"] is True, body
    return body["notifications"]


def setup(run_factory, receiver, events, versioned=False, url=None, script=()):
    run_id, ep = run_factory("ntf")
    s3 = make_client(ep)
    bucket = "notify-me"
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rx = None
    if url is None:
        rx = receiver(script)
        url = rx.url
    status, body = admin("POST", f"/_s3twin/webhooks?runId={run_id}", {"arn": QUEUE, "url": url})
    assert status == 200, body
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "py", "QueueArn": QUEUE, "Events": events}]})
    return run_id, s3, bucket, rx


def check_record(body, bucket, event, request=None, version="2.1"):
    assert list(body) == ["Records"]
    (r,) = body["Records"]
    assert r["eventVersion"] == version
    assert r["eventSource"] == "aws:s3"
    assert r["awsRegion"] == "us-east-1"
    assert len(r["eventTime"]) == 24 and r["eventTime"].endswith("Z")
    assert r["eventName"] == event
    assert isinstance(r["userIdentity"]["principalId"], str)
    assert isinstance(r["requestParameters"]["sourceIPAddress"], str)
    assert set(r["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    if request is not None:
        meta = request["ResponseMetadata"]
        assert r["responseElements"]["x-amz-request-id"] == meta["RequestId"]
        assert r["responseElements"]["x-amz-id-2"] == meta["HostId"]
    s = r["s3"]
    assert s["s3SchemaVersion"] == "1.0"
    assert s["configurationId"] == "py"
    assert s["bucket"]["name"] == bucket
    assert s["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert isinstance(s["bucket"]["ownerIdentity"]["principalId"], str)
    seq = s["object"]["sequencer"]
    assert len(seq) >= 16 and int(seq, 16) >= 0
    return r


def test_put_copy_complete_tagging_and_delete_records(run_factory, receiver):
    run_id, s3, b, rx = setup(run_factory, receiver,
                              ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectTagging:*"])
    log_after(run_id, 1)
    test = rx.bodies()[0]
    assert test["Event"] == "s3:TestEvent" and test["Bucket"] == b
    assert test["Service"] == "Amazon S3"

    put = s3.put_object(Bucket=b, Key="photos/my cat.jpg", Body=b"meow")
    copy = s3.copy_object(Bucket=b, Key="copy.jpg", CopySource={"Bucket": b, "Key": "photos/my cat.jpg"})
    up = s3.create_multipart_upload(Bucket=b, Key="big")
    part = s3.upload_part(Bucket=b, Key="big", UploadId=up["UploadId"], PartNumber=1, Body=b"abc")
    done = s3.complete_multipart_upload(Bucket=b, Key="big", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    tag = s3.put_object_tagging(Bucket=b, Key="big", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    delete = s3.delete_object(Bucket=b, Key="copy.jpg")

    log = log_after(run_id, 6)
    assert [e["status"] for e in log] == ["delivered"] * 6
    bodies = rx.bodies()
    r = check_record(bodies[1], b, "ObjectCreated:Put", put)
    assert r["s3"]["object"]["key"] == "photos/my+cat.jpg"
    assert r["s3"]["object"]["size"] == 4
    assert r["s3"]["object"]["eTag"] == put["ETag"].strip('"')
    assert "versionId" not in r["s3"]["object"]
    c = check_record(bodies[2], b, "ObjectCreated:Copy", copy)
    assert c["s3"]["object"]["eTag"] == copy["CopyObjectResult"]["ETag"].strip('"')
    m = check_record(bodies[3], b, "ObjectCreated:CompleteMultipartUpload", done)
    assert m["s3"]["object"]["eTag"] == done["ETag"].strip('"')
    assert m["s3"]["object"]["size"] == 3
    t = check_record(bodies[4], b, "ObjectTagging:Put", tag, version="2.3")
    assert t["s3"]["object"]["key"] == "big"
    d = check_record(bodies[5], b, "ObjectRemoved:Delete", delete)
    assert "size" not in d["s3"]["object"] and "eTag" not in d["s3"]["object"]
    seqs = [x["Records"][0]["s3"]["object"]["sequencer"] for x in bodies[1:]]
    assert seqs == sorted(seqs)
    # The log holds what was sent, with the destination and the URL.
    assert log[1]["payload"] == bodies[1]
    assert log[1]["destination"] == {"type": "queue", "arn": QUEUE}
    assert log[1]["url"] == rx.url


def test_versioned_delete_creates_a_marker_record(run_factory, receiver):
    run_id, s3, b, rx = setup(run_factory, receiver, ["s3:ObjectRemoved:*"], versioned=True)
    put = s3.put_object(Bucket=b, Key="k", Body=b"v1")
    marker = s3.delete_object(Bucket=b, Key="k")
    gone = s3.delete_object(Bucket=b, Key="k", VersionId=put["VersionId"])
    log_after(run_id, 3)
    bodies = rx.bodies()
    mk = check_record(bodies[1], b, "ObjectRemoved:DeleteMarkerCreated", marker)
    assert mk["s3"]["object"]["versionId"] == marker["VersionId"]
    d = check_record(bodies[2], b, "ObjectRemoved:Delete", gone)
    assert d["s3"]["object"]["versionId"] == put["VersionId"]


def test_lifecycle_expiration_and_restore_on_the_run_clock(run_factory, receiver):
    run_id, s3, b, rx = setup(run_factory, receiver,
                              ["s3:LifecycleExpiration:*", "s3:ObjectRestore:*"])
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "Expiration": {"Days": 1}}]})
    s3.put_object(Bucket=b, Key="tmp/x", Body=b"xyz")
    s3.put_object(Bucket=b, Key="cold", Body=b"ice", StorageClass="GLACIER")
    restore = s3.restore_object(Bucket=b, Key="cold", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    status, clock = admin("POST", f"/_s3twin/clock?runId={run_id}", {"advance": "3d"})
    assert status == 200, clock
    log_after(run_id, 5)
    by_name = {x["Records"][0]["eventName"]: x for x in rx.bodies()[1:]}
    check_record(by_name["ObjectRestore:Post"], b, "ObjectRestore:Post", restore)
    exp = check_record(by_name["LifecycleExpiration:Delete"], b, "LifecycleExpiration:Delete", version="2.3")
    assert exp["userIdentity"]["principalId"] == "s3.amazonaws.com"
    assert exp["requestParameters"]["sourceIPAddress"] == "s3.amazonaws.com"
    assert exp["s3"]["object"]["key"] == "tmp/x"
    assert exp["eventTime"][:10] == clock["now"][:10]
    done = check_record(by_name["ObjectRestore:Completed"], b, "ObjectRestore:Completed")
    data = done["glacierEventData"]["restoreEventData"]
    assert data["lifecycleRestoreStorageClass"] == "GLACIER"
    assert data["lifecycleRestorationExpiryTime"].endswith("T00:00:00.000Z")
    check_record(by_name["ObjectRestore:Delete"], b, "ObjectRestore:Delete", version="2.3")


def test_a_receiver_answering_500_twice_is_retried(run_factory, receiver):
    # 200 for the test event, then 500, 500, 200 for the PUT.
    run_id, s3, b, rx = setup(run_factory, receiver, ["s3:ObjectCreated:Put"], script=[200, 500, 500])
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    (entry,) = log_after(run_id, 1, "&eventName=ObjectCreated:Put")
    assert entry["status"] == "delivered"
    assert [a["status"] for a in entry["attempts"]] == [500, 500, 200]
    assert all(isinstance(a["latencyMs"], int) for a in entry["attempts"])
    assert len(rx.got) == 4


def test_a_receiver_that_is_down_does_not_slow_puts(run_factory, receiver):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    run_id, s3, b, _ = setup(run_factory, receiver, ["s3:ObjectCreated:*"], url=dead)
    s3.create_bucket(Bucket="quiet")

    def median_put(bucket):
        times = []
        for i in range(15):
            t0 = time.perf_counter()
            s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x" * 4096)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    quiet = median_put("quiet")
    noisy = median_put(b)
    assert noisy < quiet * 3 + 0.02, (quiet, noisy)
    (entry,) = log_after(run_id, 1, "&eventName=s3:TestEvent")
    assert entry["status"] == "failed"
    assert len(entry["attempts"]) == 5
    assert all(a["status"] is None and "connect" in a["error"] for a in entry["attempts"])


@pytest.mark.parametrize("body", [
    {"arn": QUEUE, "url": "ftp://127.0.0.1/x"},
    {"arn": QUEUE, "url": "file:///etc/passwd"},
    {"arn": "not-an-arn", "url": "http://127.0.0.1:9/x"},
    {"arn": QUEUE},
    {"arn": QUEUE, "url": "http://127.0.0.1:9/x", "retries": 3},
])
def test_bad_webhooks_are_refused(run_factory, body):
    run_id, ep = run_factory("ntf")
    make_client(ep).list_buckets()  # the run exists once used
    status, answer = admin("POST", f"/_s3twin/webhooks?runId={run_id}", body)
    assert status == 400 and isinstance(answer["error"], str), answer
    status, listing = admin("GET", f"/_s3twin/webhooks?runId={run_id}")
    assert status == 200 and listing["webhooks"] == []
