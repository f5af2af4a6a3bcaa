"""ACLs, S3 Object Ownership and GetObjectAttributes through boto3.

References: GetBucketAcl / PutBucketAcl / GetObjectAcl / PutObjectAcl /
GetObjectAttributes API reference pages; "Access control list (ACL)
overview" and "Controlling ownership of objects and disabling ACLs" in the
S3 user guide.
"""

import hashlib

import pytest
from botocore.exceptions import ClientError

import s3util
from conftest import empty_and_delete_bucket, error_of, new_bucket_name

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def _grants(acl):
    """(permission, type, id-or-uri) of every grant, sorted."""
    out = []
    for g in acl["Grants"]:
        grantee = g["Grantee"]
        who = grantee.get("ID") or grantee.get("URI") or grantee.get("EmailAddress")
        out.append((g["Permission"], grantee["Type"], who))
    return sorted(out)


@pytest.fixture
def acl_bucket(s3):
    """A bucket with ACLs enabled (ObjectWriter) and no Block Public Access."""
    name = new_bucket_name("acl")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    yield name
    empty_and_delete_bucket(s3, name)


def test_default_acl_is_owner_full_control(s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    owner = acl["Owner"]["ID"]
    assert _grants(acl) == [("FULL_CONTROL", "CanonicalUser", owner)]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    oacl = s3.get_object_acl(Bucket=bucket, Key="k")
    assert oacl["Owner"]["ID"] == owner
    assert _grants(oacl) == [("FULL_CONTROL", "CanonicalUser", owner)]


def test_bucket_owner_enforced_refuses_acls(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="p", Body=b"x", ACL="public-read")
    assert error_of(e)[:2] == ("AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key="k", ACL="authenticated-read")
    assert error_of(e)[:2] == ("AccessControlListNotSupported", 400)
    # bucket-owner-full-control is what a bucket without ACLs accepts.
    s3.put_object(Bucket=bucket, Key="p", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")


def test_create_bucket_with_acl_and_enforced_ownership(s3):
    name = new_bucket_name("aclc")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, ACL="public-read")
    assert error_of(e)[:2] == ("InvalidBucketAclWithObjectOwnership", 400)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert error_of(e)[1] == 404


def test_canned_and_header_grants_round_trip(s3, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x", ACL="public-read")
    acl = s3.get_object_acl(Bucket=acl_bucket, Key="k")
    owner = acl["Owner"]["ID"]
    assert _grants(acl) == sorted([
        ("FULL_CONTROL", "CanonicalUser", owner),
        ("READ", "Group", ALL_USERS),
    ])
    s3.put_object_acl(
        Bucket=acl_bucket, Key="k",
        GrantRead=f'uri="{AUTHENTICATED_USERS}"', GrantFullControl=f'id="{owner}"',
    )
    assert _grants(s3.get_object_acl(Bucket=acl_bucket, Key="k")) == sorted([
        ("READ", "Group", AUTHENTICATED_USERS),
        ("FULL_CONTROL", "CanonicalUser", owner),
    ])
    # The document GetObjectAcl returns is one PutObjectAcl takes.
    doc = s3.get_object_acl(Bucket=acl_bucket, Key="k")
    policy = {"Owner": doc["Owner"], "Grants": doc["Grants"] + [
        {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ_ACP"},
    ]}
    s3.put_object_acl(Bucket=acl_bucket, Key="k", AccessControlPolicy=policy)
    assert ("READ_ACP", "Group", ALL_USERS) in _grants(
        s3.get_object_acl(Bucket=acl_bucket, Key="k"))


def test_acl_errors(s3, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=acl_bucket, Key="k", ACL="public-read",
                          GrantRead=f'uri="{ALL_USERS}"')
    assert error_of(e)[:2] == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=acl_bucket, Key="missing", ACL="private")
    assert error_of(e)[:2] == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_acl(Bucket=new_bucket_name("nob"))
    assert error_of(e)[:2] == ("NoSuchBucket", 404)


def test_get_object_attributes(s3, bucket):
    body = b"attributes"
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="SHA256")
    out = s3.get_object_attributes(
        Bucket=bucket, Key="k",
        ObjectAttributes=["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"],
    )
    assert out["ETag"] == put["ETag"].strip('"')
    assert out["Checksum"]["ChecksumSHA256"] == s3util.b64(hashlib.sha256(body).digest())
    assert out["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    assert out["StorageClass"] == "STANDARD"
    assert out["ObjectSize"] == len(body)
    assert "ObjectParts" not in out
    assert "LastModified" in out


def test_get_object_attributes_parts_pages(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32")
    parts = []
    for n in range(1, 6):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n,
                           Body=bytes([n]) * (100 + n), ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": parts})
    seen, marker = [], 0
    for _ in range(10):
        out = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                       MaxParts=2, PartNumberMarker=marker)
        op = out["ObjectParts"]
        assert op["TotalPartsCount"] == 5
        assert op["MaxParts"] == 2
        for p in op.get("Parts", []):
            assert p["Size"] == 100 + p["PartNumber"]
            assert p["ChecksumCRC32"] == parts[p["PartNumber"] - 1]["ChecksumCRC32"]
            seen.append(p["PartNumber"])
        if not op["IsTruncated"]:
            break
        marker = op["NextPartNumberMarker"]
    assert seen == [1, 2, 3, 4, 5]


def test_get_object_attributes_invalid_name(s3_novalidate, bucket):
    s3_novalidate.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3_novalidate.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Owner"])
    assert error_of(e)[:2] == ("InvalidArgument", 400)
