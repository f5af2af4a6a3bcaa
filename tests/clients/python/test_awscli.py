"""aws-cli v1 (from PyPI) against s3twin: the high-level `aws s3` commands and
the `aws s3api` ones, asserting exit codes and outputs."""

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

import s3util


def _write(path: Path, data: bytes, age_seconds=3600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    # Files older than the upload, so a later `sync` sees S3 as up to date
    # (S3 LastModified has one-second resolution).
    t = time.time() - age_seconds
    os.utime(path, (t, t))


def _keys(s3, bucket, prefix=""):
    pag = s3.get_paginator("list_objects_v2")
    return sorted(o["Key"] for p in pag.paginate(Bucket=bucket, Prefix=prefix)
                  for o in p.get("Contents", []))


def test_cli_version_is_v1(aws):
    proc = aws("--version")
    assert proc.returncode == 0
    assert (proc.stdout + proc.stderr).startswith("aws-cli/1.")


def test_s3_mb_ls_rb(aws, s3):
    from conftest import new_bucket_name
    name = new_bucket_name("cli")
    proc = aws("s3", "mb", f"s3://{name}")
    assert f"make_bucket: {name}" in proc.stdout
    try:
        ls = aws("s3", "ls")
        assert name in [line.split()[-1] for line in ls.stdout.splitlines() if line.strip()]
        s3.head_bucket(Bucket=name)
    finally:
        proc = aws("s3", "rb", f"s3://{name}")
    assert f"remove_bucket: {name}" in proc.stdout
    ls = aws("s3", "ls")
    assert name not in ls.stdout


def test_s3_cp_up_and_down(aws, s3, bucket, tmp_path):
    src = tmp_path / "hello.txt"
    data = b"hello from aws s3 cp\n" * 100
    _write(src, data)
    proc = aws("s3", "cp", src, f"s3://{bucket}/docs/hello.txt")
    assert f"upload: " in proc.stdout and f"s3://{bucket}/docs/hello.txt" in proc.stdout
    got = s3.get_object(Bucket=bucket, Key="docs/hello.txt")
    assert got["Body"].read() == data
    # aws s3 cp guesses the Content-Type from the extension.
    assert got["ContentType"] == "text/plain"

    dst = tmp_path / "down" / "copy.txt"
    proc = aws("s3", "cp", f"s3://{bucket}/docs/hello.txt", dst)
    assert "download: " in proc.stdout
    assert dst.read_bytes() == data

    # stream to stdout
    proc = aws("s3", "cp", f"s3://{bucket}/docs/hello.txt", "-")
    assert proc.stdout.encode() == data


def test_s3_cp_missing_key_fails(aws, bucket, tmp_path):
    proc = aws("s3", "cp", f"s3://{bucket}/nope.txt", tmp_path / "x", check=False)
    assert proc.returncode != 0
    assert "404" in proc.stderr or "Not Found" in proc.stderr


def test_s3_cp_multipart_upload(aws, s3, bucket, tmp_path):
    # Above the CLI's 8 MiB multipart_threshold `aws s3 cp` uses
    # CreateMultipartUpload/UploadPart/CompleteMultipartUpload with 8 MiB
    # parts; the ETag is then md5(concat(md5(part_i))) + "-" + part count.
    data = os.urandom(10 * 1024 * 1024)
    src = tmp_path / "big.bin"
    _write(src, data)
    aws("s3", "cp", src, f"s3://{bucket}/big.bin")
    part = 8 * 1024 * 1024
    parts = [data[i:i + part] for i in range(0, len(data), part)]
    expected_etag = '"' + hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f'-{len(parts)}"'
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == expected_etag
    dst = tmp_path / "big.down"
    aws("s3", "cp", f"s3://{bucket}/big.bin", dst)
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_s3_ls_objects_and_prefixes(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="top.txt", Body=b"12345")
    s3.put_object(Bucket=bucket, Key="dir/a.txt", Body=b"abc")
    s3.put_object(Bucket=bucket, Key="dir/sub/b.txt", Body=b"")
    out = aws("s3", "ls", f"s3://{bucket}/").stdout.splitlines()
    assert any(line.split() == ["PRE", "dir/"] for line in out), out
    top = [line for line in out if line.endswith(" top.txt")]
    assert len(top) == 1 and top[0].split()[2] == "5", out

    rec = aws("s3", "ls", "--recursive", f"s3://{bucket}").stdout.splitlines()
    entries = sorted((line.split()[3], int(line.split()[2])) for line in rec if line.strip())
    assert entries == [("dir/a.txt", 3), ("dir/sub/b.txt", 0), ("top.txt", 5)]

    # A prefix with no objects: aws s3 ls exits 1 with no output.
    proc = aws("s3", "ls", f"s3://{bucket}/nothing-here/", check=False)
    assert proc.returncode == 1
    assert proc.stdout.strip() == ""


def test_s3_sync_both_ways(aws, s3, bucket, tmp_path):
    local = tmp_path / "local"
    files = {
        "a.txt": b"alpha\n",
        "nested/b.bin": os.urandom(5000),
        "nested/deeper/c.json": b'{"c": 3}',
        "space name.txt": b"spaces",
    }
    for rel, data in files.items():
        _write(local / rel, data)

    proc = aws("s3", "sync", local, f"s3://{bucket}/mirror")
    uploads = [line for line in proc.stdout.splitlines() if line.startswith("upload:")]
    assert len(uploads) == len(files), proc.stdout
    assert _keys(s3, bucket) == sorted(f"mirror/{k}" for k in files)
    for rel, data in files.items():
        assert s3.get_object(Bucket=bucket, Key=f"mirror/{rel}")["Body"].read() == data

    # Nothing changed locally: a second sync uploads nothing.
    proc = aws("s3", "sync", local, f"s3://{bucket}/mirror")
    assert "upload:" not in proc.stdout, proc.stdout

    # Add a file on the S3 side, then sync down into an empty directory.
    s3.put_object(Bucket=bucket, Key="mirror/remote-only.txt", Body=b"from s3")
    down = tmp_path / "down"
    down.mkdir()
    proc = aws("s3", "sync", f"s3://{bucket}/mirror", down)
    downloads = [line for line in proc.stdout.splitlines() if line.startswith("download:")]
    assert len(downloads) == len(files) + 1, proc.stdout
    for rel, data in files.items():
        assert (down / rel).read_bytes() == data
    assert (down / "remote-only.txt").read_bytes() == b"from s3"

    # --delete removes S3 objects that are gone locally.
    (local / "a.txt").unlink()
    proc = aws("s3", "sync", "--delete", local, f"s3://{bucket}/mirror")
    assert f"delete: s3://{bucket}/mirror/a.txt" in proc.stdout
    assert f"mirror/a.txt" not in _keys(s3, bucket)
    assert f"mirror/remote-only.txt" not in _keys(s3, bucket)


def test_s3_rm_recursive(aws, s3, bucket):
    for k in ("logs/1", "logs/2", "logs/x/3", "keep/1"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    proc = aws("s3", "rm", "--recursive", f"s3://{bucket}/logs/")
    deleted = sorted(line.split("s3://", 1)[1] for line in proc.stdout.splitlines()
                     if line.startswith("delete:"))
    assert deleted == [f"{bucket}/logs/1", f"{bucket}/logs/2", f"{bucket}/logs/x/3"]
    assert _keys(s3, bucket) == ["keep/1"]
    proc = aws("s3", "rm", f"s3://{bucket}/keep/1")
    assert f"delete: s3://{bucket}/keep/1" in proc.stdout
    assert _keys(s3, bucket) == []


def test_s3api_object_commands(aws, s3, bucket, tmp_path):
    body = b"s3api body\n"
    src = tmp_path / "in.txt"
    _write(src, body)

    put = json.loads(aws("s3api", "put-object", "--bucket", bucket, "--key", "api/obj.txt",
                         "--body", src, "--content-type", "text/plain",
                         "--metadata", "color=red,size=large").stdout)
    assert put["ETag"] == f'"{s3util.md5_hex(body)}"'

    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "api/obj.txt").stdout)
    assert head["ContentLength"] == len(body)
    assert head["ContentType"] == "text/plain"
    assert head["ETag"] == put["ETag"]
    assert head["Metadata"] == {"color": "red", "size": "large"}

    out = tmp_path / "out.txt"
    get = json.loads(aws("s3api", "get-object", "--bucket", bucket, "--key", "api/obj.txt", out).stdout)
    assert get["ContentLength"] == len(body)
    assert get["ETag"] == put["ETag"]
    assert out.read_bytes() == body

    rng = tmp_path / "range.txt"
    get = json.loads(aws("s3api", "get-object", "--bucket", bucket, "--key", "api/obj.txt",
                         "--range", "bytes=0-3", rng).stdout)
    assert get["ContentRange"] == f"bytes 0-3/{len(body)}"
    assert rng.read_bytes() == body[:4]

    for i in range(3):
        aws("s3api", "put-object", "--bucket", bucket, "--key", f"api/more/{i}", "--body", src)
    lst = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "api/").stdout)
    assert [o["Key"] for o in lst["Contents"]] == ["api/more/0", "api/more/1", "api/more/2", "api/obj.txt"]
    assert len(lst["Contents"]) == 4

    # The CLI paginates on its own: small page size, same complete result.
    lst = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket, "--page-size", "1").stdout)
    assert [o["Key"] for o in lst["Contents"]] == ["api/more/0", "api/more/1", "api/more/2", "api/obj.txt"]

    delim = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "api/",
                           "--delimiter", "/").stdout)
    assert [p["Prefix"] for p in delim["CommonPrefixes"]] == ["api/more/"]
    assert [o["Key"] for o in delim["Contents"]] == ["api/obj.txt"]


def test_s3api_errors_exit_nonzero(aws, bucket):
    proc = aws("s3api", "get-object", "--bucket", bucket, "--key", "missing", "/dev/null", check=False)
    assert proc.returncode in (254, 255)  # v1: 255, v2: 254
    assert "NoSuchKey" in proc.stderr
    proc = aws("s3api", "head-object", "--bucket", bucket, "--key", "missing", check=False)
    assert proc.returncode in (254, 255)  # v1: 255, v2: 254
    assert "404" in proc.stderr


def test_s3api_against_run_endpoint(aws, run_factory):
    _, ep = run_factory("cli")
    from conftest import new_bucket_name
    name = new_bucket_name("clirun")
    aws("s3api", "create-bucket", "--bucket", name, endpoint=ep)
    lst = json.loads(aws("s3api", "list-buckets", endpoint=ep).stdout)
    assert [b["Name"] for b in lst["Buckets"]] == [name]
