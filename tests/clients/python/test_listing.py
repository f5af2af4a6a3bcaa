"""ListObjects (v1) and ListObjectsV2.

References: ListObjects and ListObjectsV2 API reference pages ("List results
are always returned in UTF-8 binary order", NextMarker, KeyCount,
CommonPrefixes, EncodingType, FetchOwner).
"""

import urllib.parse

import pytest

import s3util

TREE = [
    "a/1.txt",
    "a/2.txt",
    "a/b/3.txt",
    "b/4.txt",
    "c.txt",
    "d/e/f/5.txt",
    "top.txt",
]

# Keys whose UTF-8 byte order differs from naive ordering of code points in
# some implementations (uppercase < lowercase, '~' < non-ASCII, BMP vs astral).
UNICODE_KEYS = [
    "Zebra",
    "apple",
    "apple pie",
    "apple+pie",
    "apple-pie",
    "apple/pie",
    "apple~",
    "ápple",
    "éclair",
    "日本",
    "\uff5a-fullwidth",
    "\U0001F600-emoji",
    "\ue000-private-use",
    "0-digit",
    "_underscore",
]


def _put_all(s3, bucket, keys):
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode("utf-8"))


def test_list_v2_basic(s3, bucket):
    _put_all(s3, bucket, TREE)
    resp = s3.list_objects_v2(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [o["Key"] for o in resp["Contents"]] == TREE
    assert resp["KeyCount"] == len(TREE)
    assert resp["IsTruncated"] is False
    assert resp["Name"] == bucket
    assert resp["MaxKeys"] == 1000
    for o in resp["Contents"]:
        assert o["Size"] == len(o["Key"].encode())
        assert o["ETag"] == f'"{s3util.md5_hex(o["Key"].encode())}"'
        assert o["LastModified"]
        assert o["StorageClass"] == "STANDARD"
        # "The owner field is not present in ListObjectsV2 by default"
        assert "Owner" not in o


def test_list_v2_fetch_owner(s3, bucket):
    _put_all(s3, bucket, ["x", "y"])
    owner_id = s3.list_buckets()["Owner"]["ID"]
    resp = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)
    for o in resp["Contents"]:
        assert o["Owner"]["ID"] == owner_id


def test_list_empty_bucket(s3, bucket):
    v2 = s3.list_objects_v2(Bucket=bucket)
    assert "Contents" not in v2
    assert v2["KeyCount"] == 0
    assert v2["IsTruncated"] is False
    v1 = s3.list_objects(Bucket=bucket)
    assert "Contents" not in v1
    assert v1["IsTruncated"] is False


def test_list_prefix(s3, bucket):
    _put_all(s3, bucket, TREE)
    v2 = s3.list_objects_v2(Bucket=bucket, Prefix="a/")
    assert [o["Key"] for o in v2["Contents"]] == ["a/1.txt", "a/2.txt", "a/b/3.txt"]
    assert v2["Prefix"] == "a/"
    v1 = s3.list_objects(Bucket=bucket, Prefix="a/")
    assert [o["Key"] for o in v1["Contents"]] == ["a/1.txt", "a/2.txt", "a/b/3.txt"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="zzz")["KeyCount"] == 0


def test_list_delimiter(s3, bucket):
    _put_all(s3, bucket, TREE)
    for resp in (s3.list_objects_v2(Bucket=bucket, Delimiter="/"),
                 s3.list_objects(Bucket=bucket, Delimiter="/")):
        assert [o["Key"] for o in resp["Contents"]] == ["c.txt", "top.txt"]
        assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "b/", "d/"]
        assert resp["Delimiter"] == "/"
    v2 = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    # Each common prefix counts as one returned item.
    assert v2["KeyCount"] == 2 + 3

    nested = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in nested["Contents"]] == ["a/1.txt", "a/2.txt"]
    assert [p["Prefix"] for p in nested["CommonPrefixes"]] == ["a/b/"]
    deep = s3.list_objects_v2(Bucket=bucket, Prefix="d/", Delimiter="/")
    assert "Contents" not in deep
    assert [p["Prefix"] for p in deep["CommonPrefixes"]] == ["d/e/"]


def test_list_non_slash_delimiter(s3, bucket):
    _put_all(s3, bucket, ["x-1-a", "x-1-b", "x-2", "y"])
    resp = s3.list_objects_v2(Bucket=bucket, Delimiter="-1")
    assert [o["Key"] for o in resp["Contents"]] == ["x-2", "y"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["x-1"]


def test_list_start_after_and_marker(s3, bucket):
    _put_all(s3, bucket, TREE)
    v2 = s3.list_objects_v2(Bucket=bucket, StartAfter="b/4.txt")
    assert [o["Key"] for o in v2["Contents"]] == ["c.txt", "d/e/f/5.txt", "top.txt"]
    assert v2["StartAfter"] == "b/4.txt"
    v1 = s3.list_objects(Bucket=bucket, Marker="b/4.txt")
    assert [o["Key"] for o in v1["Contents"]] == ["c.txt", "d/e/f/5.txt", "top.txt"]
    assert v1["Marker"] == "b/4.txt"
    # A marker that is not itself a key still works (lexicographic position).
    v1 = s3.list_objects(Bucket=bucket, Marker="b")
    assert [o["Key"] for o in v1["Contents"]][0] == "b/4.txt"


def test_list_order_is_utf8_binary(s3, bucket):
    _put_all(s3, bucket, UNICODE_KEYS)
    expected = s3util.utf8_sorted(UNICODE_KEYS)
    v2 = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert v2 == expected
    v1 = [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]]
    assert v1 == expected


def test_list_v2_pagination_manual(s3, bucket):
    keys = [f"p/{i:03d}" for i in range(23)] + UNICODE_KEYS
    _put_all(s3, bucket, keys)
    expected = s3util.utf8_sorted(keys)
    seen, token, pages = [], None, 0
    while True:
        kw = {"Bucket": bucket, "MaxKeys": 5}
        if token:
            kw["ContinuationToken"] = token
        resp = s3.list_objects_v2(**kw)
        pages += 1
        assert resp["MaxKeys"] == 5
        assert resp["KeyCount"] == len(resp.get("Contents", []))
        assert resp["KeyCount"] <= 5
        if token:
            assert resp["ContinuationToken"] == token
        seen += [o["Key"] for o in resp.get("Contents", [])]
        if not resp["IsTruncated"]:
            assert "NextContinuationToken" not in resp
            break
        assert resp["KeyCount"] == 5
        token = resp["NextContinuationToken"]
        assert pages < 50
    assert seen == expected
    assert pages == -(-len(keys) // 5)


def test_list_v1_pagination_without_delimiter_has_no_next_marker(s3, bucket):
    keys = [f"k{i:02d}" for i in range(12)]
    _put_all(s3, bucket, keys)
    seen, marker = [], None
    while True:
        kw = {"Bucket": bucket, "MaxKeys": 5}
        if marker is not None:
            kw["Marker"] = marker
        resp = s3.list_objects(**kw)
        page = [o["Key"] for o in resp.get("Contents", [])]
        seen += page
        # "This element is returned only if you have the delimiter request
        # parameter specified."
        assert "NextMarker" not in resp
        if not resp["IsTruncated"]:
            break
        marker = page[-1]
    assert seen == keys


def test_list_v1_pagination_with_delimiter_has_next_marker(s3, bucket):
    keys = [f"dir{i}/file" for i in range(4)] + [f"file{i}" for i in range(4)]
    _put_all(s3, bucket, keys)
    items, marker, pages = [], None, 0
    while True:
        kw = {"Bucket": bucket, "MaxKeys": 3, "Delimiter": "/"}
        if marker is not None:
            kw["Marker"] = marker
        resp = s3.list_objects(**kw)
        pages += 1
        page = [o["Key"] for o in resp.get("Contents", [])] + \
               [p["Prefix"] for p in resp.get("CommonPrefixes", [])]
        assert len(page) <= 3
        items += page
        if not resp["IsTruncated"]:
            break
        assert resp.get("NextMarker"), "truncated v1 listing with delimiter must carry NextMarker"
        marker = resp["NextMarker"]
        assert pages < 20
    expected = sorted([f"dir{i}/" for i in range(4)] + [f"file{i}" for i in range(4)])
    assert sorted(items) == expected
    assert len(items) == len(expected)  # no duplicates across pages


def test_list_v2_pagination_with_delimiter(s3, bucket):
    keys = [f"dir{i}/file{j}" for i in range(5) for j in range(3)] + [f"f{i}" for i in range(5)]
    _put_all(s3, bucket, keys)
    pag = s3.get_paginator("list_objects_v2")
    contents, prefixes = [], []
    for page in pag.paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}):
        n = len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
        assert n <= 2
        assert page["KeyCount"] == n
        contents += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert contents == [f"f{i}" for i in range(5)]
    assert prefixes == [f"dir{i}/" for i in range(5)]


@pytest.mark.parametrize("op", ["list_objects", "list_objects_v2"])
def test_paginators_cover_everything(s3, bucket, op):
    keys = [f"pg/{i:03d}" for i in range(37)] + ["other/x", "z"]
    _put_all(s3, bucket, keys)
    pag = s3.get_paginator(op)
    pages = list(pag.paginate(Bucket=bucket, PaginationConfig={"PageSize": 10}))
    assert len(pages) == 4
    got = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert got == s3util.utf8_sorted(keys)
    prefixed = [o["Key"] for p in pag.paginate(Bucket=bucket, Prefix="pg/",
                                                PaginationConfig={"PageSize": 7})
                for o in p.get("Contents", [])]
    assert prefixed == [f"pg/{i:03d}" for i in range(37)]


def test_encoding_type_url_explicit(s3, bucket):
    keys = ["with space/file one.txt", "ünï/日本.txt", "plus+sign", "pct%41", "amp&lt;"]
    _put_all(s3, bucket, keys)
    for op in (s3.list_objects_v2, s3.list_objects):
        # EncodingType given by the caller: botocore does NOT decode, so we see
        # exactly what S3 sent.
        resp = op(Bucket=bucket, EncodingType="url")
        assert resp["EncodingType"] == "url"
        raw = [o["Key"] for o in resp["Contents"]]
        for r in raw:
            assert " " not in r
            r.encode("ascii")  # non-ASCII is percent-encoded as UTF-8
        decoded = [urllib.parse.unquote_plus(r) for r in raw]
        assert decoded == s3util.utf8_sorted(keys)
        # Delimiter/CommonPrefixes are encoded too.
        resp = op(Bucket=bucket, EncodingType="url", Delimiter="/")
        prefixes = [urllib.parse.unquote_plus(p["Prefix"]) for p in resp.get("CommonPrefixes", [])]
        assert prefixes == s3util.utf8_sorted(["with space/", "ünï/"])


def test_encoding_type_url_auto_decoded_by_botocore(s3, bucket):
    # botocore adds encoding-type=url itself and decodes the answer, so the
    # keys must come back exactly as stored — including characters XML 1.0
    # cannot carry.
    keys = ["with space", "ünï/日本.txt", "plus+sign", "pct%20", "ctrl\x01char", "tab\tkey"]
    _put_all(s3, bucket, keys)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == s3util.utf8_sorted(keys)
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == s3util.utf8_sorted(keys)
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="ünï/", Delimiter="/")
    assert resp["Prefix"] == "ünï/"
    assert [o["Key"] for o in resp["Contents"]] == ["ünï/日本.txt"]


def test_max_keys_zero(s3, bucket):
    _put_all(s3, bucket, ["a", "b"])
    resp = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert resp["KeyCount"] == 0
    assert "Contents" not in resp


def test_invalid_continuation_token(s3, bucket):
    _put_all(s3, bucket, ["a", "b"])
    from botocore.exceptions import ClientError
    from conftest import error_of
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="definitely-not-a-token")
    assert error_of(ei)[:2] == ("InvalidArgument", 400)


def test_marker_equal_to_common_prefix_is_not_repeated(s3, bucket):
    # A NextMarker that is a common prefix ("a/") continues after that whole
    # group: the prefix is not returned again (s3-tests'
    # test_bucket_list_delimiter_prefix pattern).
    _put_all(s3, bucket, TREE)
    v1 = s3.list_objects(Bucket=bucket, Delimiter="/", Marker="a/")
    assert [p["Prefix"] for p in v1.get("CommonPrefixes", [])] == ["b/", "d/"]
    assert [o["Key"] for o in v1["Contents"]] == ["c.txt", "top.txt"]
    v2 = s3.list_objects_v2(Bucket=bucket, Delimiter="/", StartAfter="b/")
    assert [p["Prefix"] for p in v2.get("CommonPrefixes", [])] == ["d/"]
    assert [o["Key"] for o in v2["Contents"]] == ["c.txt", "top.txt"]
    v1 = s3.list_objects(Bucket=bucket, Delimiter="/", Marker="a/b/3.txt")
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["b/", "d/"]


def test_xml_special_characters_in_keys(s3, bucket):
    keys = ["<tag>", "a&b", "quote\"d", "apos'", "gt>lt<", "]]>cdata"]
    _put_all(s3, bucket, keys)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == s3util.utf8_sorted(keys)
    for k in keys:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode()


def test_prefix_and_delimiter_echoed(s3, bucket):
    _put_all(s3, bucket, TREE)
    resp = s3.list_objects(Bucket=bucket, Prefix="a/", Delimiter="/", MaxKeys=50)
    assert resp["Prefix"] == "a/"
    assert resp["Delimiter"] == "/"
    assert resp["MaxKeys"] == 50
    assert resp["Name"] == bucket
    assert resp["IsTruncated"] is False
