"""A run exported (GET /_s3twin/runs/{id}/export) and imported (POST /_s3twin/runs with the
document as its seed): boto3 gets the same answers from the copy as from the original."""

import hashlib

import s3util
from conftest import make_client, new_bucket_name


def _state(c, bucket):
    """Everything boto3 answers about a bucket, without request ids."""
    out = []
    versions = c.list_object_versions(Bucket=bucket)
    for v in versions.get("Versions", []):
        out.append(("version", v["Key"], v["VersionId"], v["ETag"], v["Size"],
                    v["LastModified"], v["IsLatest"], v["StorageClass"]))
        head = c.head_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        out.append(("head", v["Key"], head["ETag"], head["ContentLength"],
                    head.get("ContentType"), head.get("ContentEncoding"),
                    head.get("ContentLanguage"), head["LastModified"],
                    sorted(head.get("Metadata", {}).items()), head.get("TagCount")))
        body = c.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
        out.append(("body", v["Key"], len(body), hashlib.md5(body).hexdigest()))
        tags = c.get_object_tagging(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        out.append(("tags", v["Key"], tags["TagSet"]))
    for m in versions.get("DeleteMarkers", []):
        out.append(("marker", m["Key"], m["VersionId"], m["IsLatest"], m["LastModified"]))
    versioning = c.get_bucket_versioning(Bucket=bucket)
    out.append(("versioning", versioning.get("Status")))
    out.append(("lifecycle", c.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]))
    out.append(("cors", c.get_bucket_cors(Bucket=bucket)["CORSRules"]))
    out.append(("tagging", c.get_bucket_tagging(Bucket=bucket)["TagSet"]))
    return out


def test_export_import_round_trip(endpoint, run_factory):
    src_id, src_ep = run_factory("exp")
    dst_id = src_id + "-copy"
    c = make_client(src_ep)
    bucket = new_bucket_name("exp")
    c.create_bucket(Bucket=bucket)
    c.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3util.admin(endpoint, "POST", f"/_s3twin/clock?runId={src_id}",
                 body={"freeze": True})
    v1 = c.put_object(Bucket=bucket, Key="report.csv", Body=b"a,b\n1,2\n",
                      ContentType="text/csv", ContentLanguage="en",
                      Metadata={"source": "nightly"}, Tagging="kind=report")["VersionId"]
    s3util.admin(endpoint, "POST", f"/_s3twin/clock?runId={src_id}", body={"advance": "2h"})
    c.put_object(Bucket=bucket, Key="report.csv", Body=b"a,b\n3,4\n", ContentType="text/csv")
    c.put_object(Bucket=bucket, Key="gone.txt", Body=b"soon gone")
    c.delete_object(Bucket=bucket, Key="gone.txt")
    upload = c.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    parts = []
    for n, data in ((1, b"p" * (5 << 20)), (2, b"q" * 10)):
        etag = c.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=n,
                             Body=data)["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    c.complete_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload,
                                MultipartUpload={"Parts": parts})
    c.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 5}}]})
    c.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["*"], "ExposeHeaders": ["ETag"]}]})
    c.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "env", "Value": "test"}]})

    resp = s3util.admin(endpoint, "GET", f"/_s3twin/runs/{src_id}/export?maxBodyBytes=6291456")
    assert resp.status == 200, resp
    doc = resp.json()
    objects = doc["buckets"][0]["objects"]
    assert any(o.get("deleteMarker") for o in objects)
    assert any(o["etag"].endswith("-2") for o in objects if "etag" in o)
    assert {o.get("versionId") for o in objects} >= {v1}

    resp = s3util.admin(endpoint, "POST", "/_s3twin/runs", body={"runId": dst_id, "seed": doc})
    assert resp.status == 201, resp.json()
    try:
        copy = make_client(f"{endpoint}/t/{dst_id}")
        original = _state(c, bucket)
        assert len(original) > 15
        assert _state(copy, bucket) == original
        # The copy's clock stands where the original's does.
        a = s3util.admin(endpoint, "GET", f"/_s3twin/clock?runId={src_id}").json()
        b = s3util.admin(endpoint, "GET", f"/_s3twin/clock?runId={dst_id}").json()
        assert (a["now"], a["frozen"]) == (b["now"], b["frozen"])
        # Hostile documents: a clear 400, and no run.
        bad = {"buckets": [{"name": new_bucket_name("bad"), "objects": [
            {"key": "k", "bodyBase64": "!!not base64!!"}]}]}
        resp = s3util.admin(endpoint, "POST", "/_s3twin/runs",
                            body={"runId": dst_id + "-bad", "seed": bad})
        assert resp.status == 400
        assert "base64" in resp.json()["error"]
        resp = s3util.admin(endpoint, "GET", f"/_s3twin/runs/{dst_id}-bad/export")
        assert resp.status == 404
    finally:
        s3util.admin(endpoint, "DELETE", f"/_s3twin/runs/{dst_id}")
