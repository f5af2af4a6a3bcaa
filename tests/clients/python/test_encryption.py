"""Server-side encryption through boto3 and aws-cli: SSE-S3 / SSE-KMS headers echoed as S3
echoes them (PutObject, GetObject, HeadObject, CopyObject, multipart), the bucket default
applied, and SSE-C keys required on every read, part and copy.

References: the PutObject, CopyObject, GetObject, HeadObject, UploadPart and
CompleteMultipartUpload API pages (which operations return which SSE headers) and the
"Specifying server-side encryption with customer-provided keys" user-guide page (SSE-C errors).
"""

import base64
import hashlib
import json
import os

import pytest
from botocore.exceptions import ClientError

from conftest import error_of

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ARN = f"arn:aws:kms:us-east-1:000000000000:key/{KEY_ID}"


def _md5_etag(body):
    return '"' + hashlib.md5(body).hexdigest() + '"'


def _sse_c(key):
    # boto3 base64-encodes the key and adds its MD5.
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def _copy_sse_c(key):
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def _key_md5(key):
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def test_sse_kms_echoed_through_put_get_head_and_copy(s3, bucket, raw_responses):
    context = base64.b64encode(json.dumps({"app": "billing"}).encode()).decode()
    body = b"kms object"
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ServerSideEncryption="aws:kms",
                        SSEKMSKeyId=KEY_ID, SSEKMSEncryptionContext=context,
                        BucketKeyEnabled=True)
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] == ARN
    assert put["SSEKMSEncryptionContext"] == context
    assert put["BucketKeyEnabled"] is True
    assert put["ETag"] != _md5_etag(body)

    rec = raw_responses(s3)
    for resp in (s3.get_object(Bucket=bucket, Key="k"), s3.head_object(Bucket=bucket, Key="k")):
        assert resp["ServerSideEncryption"] == "aws:kms"
        assert resp["SSEKMSKeyId"] == ARN
        assert resp["BucketKeyEnabled"] is True
        assert resp["ETag"] == put["ETag"]
    # The context is never sent back on reads.
    assert all("x-amz-server-side-encryption-context" not in r["headers"] for r in rec)

    copy = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"},
                          ServerSideEncryption="aws:kms")
    assert copy["ServerSideEncryption"] == "aws:kms"
    # No key named: the AWS managed key's ARN, in the run's account.
    assert copy["SSEKMSKeyId"].startswith("arn:aws:kms:us-east-1:000000000000:key/")
    assert copy["SSEKMSKeyId"] != ARN
    # The copy does not inherit the source's Bucket Key or context.
    assert "BucketKeyEnabled" not in copy
    assert "SSEKMSEncryptionContext" not in copy

    plain = s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "k"})
    assert plain["ServerSideEncryption"] == "AES256"
    assert "SSEKMSKeyId" not in plain
    assert plain["CopyObjectResult"]["ETag"] == _md5_etag(body)


def test_sse_kms_multipart_echoes_on_every_step(s3, bucket):
    create = s3.create_multipart_upload(Bucket=bucket, Key="mp", ServerSideEncryption="aws:kms",
                                        SSEKMSKeyId="alias/aws/s3", BucketKeyEnabled=True)
    assert create["ServerSideEncryption"] == "aws:kms"
    managed = create["SSEKMSKeyId"]
    assert managed.startswith("arn:aws:kms:us-east-1:000000000000:key/")
    assert create["BucketKeyEnabled"] is True
    uid = create["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"only part")
    assert part["ServerSideEncryption"] == "aws:kms"
    assert part["SSEKMSKeyId"] == managed
    assert part["BucketKeyEnabled"] is True
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["ServerSideEncryption"] == "aws:kms"
    assert done["SSEKMSKeyId"] == managed
    assert done["BucketKeyEnabled"] is True
    # Without a key id, aws:kms uses the same managed key.
    again = s3.put_object(Bucket=bucket, Key="again", Body=b"x", ServerSideEncryption="aws:kms")
    assert again["SSEKMSKeyId"] == managed


def test_bucket_default_encryption_applied(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ID},
        "BucketKeyEnabled": True,
    }]})
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == \
        ("aws:kms", ARN, True)
    head = s3.head_object(Bucket=bucket, Key="k")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", ARN)
    own = s3.put_object(Bucket=bucket, Key="own", Body=b"x", ServerSideEncryption="AES256")
    assert own["ServerSideEncryption"] == "AES256"
    assert "SSEKMSKeyId" not in own
    mp = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert (mp["ServerSideEncryption"], mp["SSEKMSKeyId"]) == ("aws:kms", ARN)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}},
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}},
        ]})
    assert error_of(e)[:2] == ("MalformedXML", 400)


def test_invalid_sse_values(s3_novalidate, bucket):
    s3 = s3_novalidate
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aes256")
    code, status, err = error_of(e)
    assert (code, status) == ("InvalidArgument", 400)
    assert err["Message"] == "The encryption method specified is not supported"
    assert err["ArgumentName"] == "x-amz-server-side-encryption"
    assert err["ArgumentValue"] == "aes256"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="fake-key-id")
    code, status, err = error_of(e)
    assert (code, status) == ("KMS.NotFoundException", 400)
    assert err["Message"] == "Invalid keyId 'fake-key-id'"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", SSEKMSKeyId=KEY_ID)
    code, status, err = error_of(e)
    assert (code, status) == ("InvalidArgument", 400)
    assert err["Message"] == ("Server Side Encryption with AWS KMS managed key requires HTTP "
                              "header x-amz-server-side-encryption : aws:kms")


def test_sse_c_round_trip_range_wrong_and_missing_key(s3, bucket):
    key, other = os.urandom(32), os.urandom(32)
    body = b"customer keyed bytes"
    put = s3.put_object(Bucket=bucket, Key="c", Body=body, **_sse_c(key))
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == _key_md5(key)
    assert "ServerSideEncryption" not in put
    assert put["ETag"] != _md5_etag(body)

    got = s3.get_object(Bucket=bucket, Key="c", **_sse_c(key))
    assert got["Body"].read() == body
    assert got["SSECustomerKeyMD5"] == _key_md5(key)
    ranged = s3.get_object(Bucket=bucket, Key="c", Range="bytes=9-13", **_sse_c(key))
    assert ranged["Body"].read() == b"keyed"
    assert ranged["ContentRange"] == f"bytes 9-13/{len(body)}"
    assert s3.head_object(Bucket=bucket, Key="c", **_sse_c(key))["ContentLength"] == len(body)

    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c")
    code, status, err = error_of(e)
    assert (code, status) == ("InvalidRequest", 400)
    assert err["Message"] == ("The object was stored using a form of Server Side Encryption. "
                              "The correct parameters must be provided to retrieve the object.")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", **_sse_c(other))
    code, status, err = error_of(e)
    assert (code, status) == ("AccessDenied", 403)
    assert err["Message"] == ("Requests specifying Server Side Encryption with Customer "
                              "provided keys must provide the correct secret key.")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="c", **_sse_c(other))
    assert error_of(e)[1] == 403


def test_sse_c_key_validation(s3, bucket):
    key = os.urandom(32)
    # With the MD5 given, boto3 sends both as they are: the key must be base64 already.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c", Body=b"x", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=base64.b64encode(key).decode(),
                      SSECustomerKeyMD5=_key_md5(b"another key"))
    code, status, err = error_of(e)
    assert (code, status) == ("InvalidArgument", 400)
    assert err["Message"] == ("The calculated MD5 hash of the key did not match the hash "
                              "that was provided.")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c", Body=b"x", **_sse_c(os.urandom(16)))
    code, status, err = error_of(e)
    assert (code, status) == ("InvalidArgument", 400)
    assert err["Message"] == "The secret key was invalid for the specified algorithm."
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c", Body=b"x", ServerSideEncryption="AES256",
                      **_sse_c(key))
    code, status, err = error_of(e)
    assert (code, status) == ("InvalidArgument", 400)
    assert err["ArgumentName"] == "x-amz-server-side-encryption"


def test_sse_c_copy_with_source_key(s3, bucket):
    key, new_key = os.urandom(32), os.urandom(32)
    s3.put_object(Bucket=bucket, Key="src", Body=b"to be copied", **_sse_c(key))
    src = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=src)
    assert error_of(e)[:2] == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, **_copy_sse_c(new_key))
    assert error_of(e)[:2] == ("AccessDenied", 403)
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, **_copy_sse_c(key),
                         **_sse_c(new_key))
    assert out["SSECustomerKeyMD5"] == _key_md5(new_key)
    assert s3.get_object(Bucket=bucket, Key="dst", **_sse_c(new_key))["Body"].read() == \
        b"to be copied"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="dst", **_sse_c(key))
    assert error_of(e)[1] == 403


def test_sse_c_multipart(s3, bucket):
    key = os.urandom(32)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp", **_sse_c(key))["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"a")
    code, status, err = error_of(e)
    assert (code, status) == ("InvalidRequest", 400)
    assert err["Message"] == ("The multipart upload initiate requested encryption. Subsequent "
                              "part requests must include the appropriate encryption parameters.")
    parts = []
    for n, chunk in enumerate([b"first-", b"second"], start=1):
        p = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=chunk,
                           **_sse_c(key))
        assert p["SSECustomerKeyMD5"] == _key_md5(key)
        parts.append({"PartNumber": n, "ETag": p["ETag"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                        MultipartUpload={"Parts": parts})
    assert done["ETag"].endswith('-2"')
    assert s3.get_object(Bucket=bucket, Key="mp", **_sse_c(key))["Body"].read() == b"first-second"
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2,
                         **_sse_c(key))["Body"].read() == b"second"


def test_awscli_sse_kms_and_sse_c(aws, bucket, tmp_path):
    src = tmp_path / "f.txt"
    src.write_bytes(b"cli bytes")
    out = aws("s3api", "put-object", "--bucket", bucket, "--key", "kms", "--body", str(src),
              "--server-side-encryption", "aws:kms", "--ssekms-key-id", KEY_ID)
    assert json.loads(out.stdout)["SSEKMSKeyId"] == ARN
    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "kms").stdout)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", ARN)

    keyfile = tmp_path / "key.bin"
    keyfile.write_bytes(os.urandom(32))
    aws("s3", "cp", str(src), f"s3://{bucket}/c", "--sse-c", "AES256",
        "--sse-c-key", f"fileb://{keyfile}")
    dst = tmp_path / "back.txt"
    aws("s3", "cp", f"s3://{bucket}/c", str(dst), "--sse-c", "AES256",
        "--sse-c-key", f"fileb://{keyfile}")
    assert dst.read_bytes() == b"cli bytes"
    failed = aws("s3", "cp", f"s3://{bucket}/c", str(tmp_path / "nokey.txt"), check=False)
    assert failed.returncode != 0
