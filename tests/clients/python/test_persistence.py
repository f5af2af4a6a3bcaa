"""`--data-dir`: what boto3 writes survives the server being killed (SIGKILL) and started
again on the same directory: versions, tags, metadata, ACLs, bucket configurations and an
upload in progress, which still completes. Each test starts its own server."""

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import make_client

BIN = Path(__file__).resolve().parents[3] / "target" / "release" / "s3twin"


def start(data_dir):
    proc = subprocess.Popen([str(BIN), "--port", "0", "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("s3twin listening on "):
            return proc, line.split()[-1]
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"server did not start: {proc.stderr.read()}")


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_state_survives_kill_and_restart(tmp_path):
    data = tmp_path / "data"
    big = os.urandom(2 * 1024 * 1024 + 3)
    part1, part2 = os.urandom(5 * 1024 * 1024), os.urandom(1000)
    proc, ep = start(data)
    try:
        s3 = make_client(ep)
        s3.create_bucket(Bucket="photos")
        s3.put_bucket_versioning(Bucket="photos", VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_ownership_controls(
            Bucket="photos",
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
        v1 = s3.put_object(Bucket="photos", Key="cat.jpg", Body=b"v1", ContentType="image/jpeg",
                           Metadata={"camera": "x100"}, Tagging="animal=cat")["VersionId"]
        v2 = s3.put_object(Bucket="photos", Key="cat.jpg", Body=big, ACL="public-read")["VersionId"]
        s3.put_bucket_tagging(Bucket="photos", Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
        s3.put_bucket_cors(Bucket="photos", CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["http://localhost:3000"]}]})
        s3.put_bucket_lifecycle_configuration(Bucket="photos", LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
             "Expiration": {"Days": 1}}]})
        s3.put_bucket_policy(Bucket="photos", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::photos/*"}]}))
        up = s3.create_multipart_upload(Bucket="photos", Key="video.mp4",
                                        ContentType="video/mp4")["UploadId"]
        e1 = s3.upload_part(Bucket="photos", Key="video.mp4", UploadId=up, PartNumber=1,
                            Body=part1)["ETag"]
        e2 = s3.upload_part(Bucket="photos", Key="video.mp4", UploadId=up, PartNumber=2,
                            Body=part2)["ETag"]
    finally:
        kill(proc)

    proc, ep = start(data)
    try:
        s3 = make_client(ep)
        old = s3.get_object(Bucket="photos", Key="cat.jpg", VersionId=v1)
        assert old["Body"].read() == b"v1"
        assert old["ContentType"] == "image/jpeg" and old["Metadata"] == {"camera": "x100"}
        tags = s3.get_object_tagging(Bucket="photos", Key="cat.jpg", VersionId=v1)["TagSet"]
        assert tags == [{"Key": "animal", "Value": "cat"}]
        cur = s3.get_object(Bucket="photos", Key="cat.jpg")
        assert cur["VersionId"] == v2
        assert hashlib.sha256(cur["Body"].read()).digest() == hashlib.sha256(big).digest()
        grants = s3.get_object_acl(Bucket="photos", Key="cat.jpg")["Grants"]
        assert any(g["Grantee"].get("URI", "").endswith("/global/AllUsers") for g in grants)
        assert s3.get_bucket_versioning(Bucket="photos")["Status"] == "Enabled"
        rules = s3.get_bucket_ownership_controls(Bucket="photos")["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]
        assert s3.get_bucket_tagging(Bucket="photos")["TagSet"] == [{"Key": "env", "Value": "dev"}]
        cors = s3.get_bucket_cors(Bucket="photos")["CORSRules"]
        assert cors[0]["AllowedOrigins"] == ["http://localhost:3000"]
        assert s3.get_bucket_lifecycle_configuration(Bucket="photos")["Rules"][0]["ID"] == "tmp"
        assert "s3:GetObject" in s3.get_bucket_policy(Bucket="photos")["Policy"]
        parts = s3.list_parts(Bucket="photos", Key="video.mp4", UploadId=up)["Parts"]
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
            (1, e1, len(part1)), (2, e2, len(part2))]
        s3.complete_multipart_upload(Bucket="photos", Key="video.mp4", UploadId=up,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 1, "ETag": e1},
                                         {"PartNumber": 2, "ETag": e2}]})
    finally:
        kill(proc)

    proc, ep = start(data)
    try:
        s3 = make_client(ep)
        got = s3.get_object(Bucket="photos", Key="video.mp4")
        assert got["ContentType"] == "video/mp4" and got["ETag"].endswith('-2"')
        assert got["Body"].read() == part1 + part2
        assert s3.list_multipart_uploads(Bucket="photos").get("Uploads", []) == []
    finally:
        kill(proc)


def test_second_server_on_the_same_dir_refuses_to_start(tmp_path):
    proc, _ = start(tmp_path / "d")
    try:
        out = subprocess.run([str(BIN), "--port", "0", "--data-dir", str(tmp_path / "d")],
                             capture_output=True, text=True, timeout=20)
        assert out.returncode != 0
        assert "another s3twin is using it" in out.stderr
    finally:
        kill(proc)
