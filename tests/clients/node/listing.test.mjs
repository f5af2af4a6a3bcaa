// Listing (v2 and v1), DeleteObjects and CopyObject through the real SDK.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";

import { expectS3Error, makeClient, md5Hex, newRunId, resetRun } from "./helpers.mjs";

const runId = newRunId("listing");
const bucket = "listing";
// DeleteObjects and CopyObject write to their own bucket so the listing
// expectations above stay exact.
const ops = "listing-ops";
const s3 = makeClient({ runId });

// S3 lists keys in ascending UTF-8 binary order.
const KEYS = [
  "a/1.txt",
  "a/2.txt",
  "a/b/3.txt",
  "a/b/4.txt",
  "a/c/5.txt",
  "b/6.txt",
  "c.txt",
  "d.txt",
  "space key.txt",
  "unicode-\u00e9t\u00e9.txt",
  "Z-upper.txt",
  "a-dash.txt",
];
const utf8Sort = (arr) => [...arr].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
const SORTED = utf8Sort(KEYS);
const bodyOf = (k) => `body of ${k}`;

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: ops }));
  for (const k of KEYS) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: bodyOf(k) }));
  }
});

after(async () => {
  s3.destroy();
  await resetRun(runId);
});

const keysOf = (page) => (page.Contents ?? []).map((o) => o.Key);
const prefixesOf = (page) => (page.CommonPrefixes ?? []).map((p) => p.Prefix);

describe("ListObjectsV2", () => {
  test("lists every key in UTF-8 binary order with size, ETag and date", async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(keysOf(page), SORTED);
    assert.equal(page.KeyCount, KEYS.length);
    assert.equal(page.IsTruncated, false);
    assert.equal(page.NextContinuationToken, undefined);
    assert.equal(page.Name, bucket);
    assert.equal(page.MaxKeys, 1000);
    for (const o of page.Contents) {
      assert.equal(o.Size, Buffer.byteLength(bodyOf(o.Key)), o.Key);
      assert.equal(o.ETag, `"${md5Hex(Buffer.from(bodyOf(o.Key)))}"`, o.Key);
      assert.ok(o.LastModified instanceof Date && !Number.isNaN(o.LastModified.getTime()));
      assert.ok(Math.abs(Date.now() - o.LastModified.getTime()) < 10 * 60 * 1000, "LastModified not recent");
      assert.equal(o.StorageClass, "STANDARD");
    }
  });

  test("Prefix + Delimiter roll sub-folders into CommonPrefixes", async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "a/", Delimiter: "/" }));
    assert.deepEqual(keysOf(page), ["a/1.txt", "a/2.txt"]);
    assert.deepEqual(prefixesOf(page), ["a/b/", "a/c/"]);
    assert.equal(page.Prefix, "a/");
    assert.equal(page.Delimiter, "/");
    // KeyCount counts keys and common prefixes.
    assert.equal(page.KeyCount, 4);
    assert.equal(page.IsTruncated, false);
  });

  test("Delimiter without Prefix at the root", async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/" }));
    const expectedKeys = SORTED.filter((k) => !k.includes("/"));
    assert.deepEqual(keysOf(page), expectedKeys);
    assert.deepEqual(prefixesOf(page), ["a/", "b/"]);
  });

  test("Prefix that matches nothing → empty, not an error", async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "zzz/" }));
    assert.deepEqual(keysOf(page), []);
    assert.equal(page.KeyCount, 0);
    assert.equal(page.IsTruncated, false);
  });

  test("MaxKeys + ContinuationToken walk every key exactly once", async () => {
    const seen = [];
    let token;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 5, ContinuationToken: token }),
      );
      pages++;
      assert.equal(page.MaxKeys, 5);
      assert.ok(page.KeyCount <= 5);
      assert.equal(page.KeyCount, (page.Contents ?? []).length);
      if (token) assert.equal(page.ContinuationToken, token);
      seen.push(...keysOf(page));
      if (page.IsTruncated) {
        assert.ok(page.NextContinuationToken, "truncated page without NextContinuationToken");
        token = page.NextContinuationToken;
      } else {
        assert.equal(page.NextContinuationToken, undefined);
        token = undefined;
      }
      assert.ok(pages < 20, "pagination does not terminate");
    } while (token);
    assert.equal(pages, Math.ceil(KEYS.length / 5));
    assert.deepEqual(seen, SORTED);
  });

  test("MaxKeys counts common prefixes too (Delimiter paging)", async () => {
    const seen = [];
    let token;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/", MaxKeys: 1, ContinuationToken: token }),
      );
      pages++;
      const items = [...keysOf(page), ...prefixesOf(page)];
      assert.equal(items.length, 1, `page ${pages} has ${items.length} entries: ${items}`);
      seen.push(...items);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      assert.ok(pages < 30, "pagination does not terminate");
    } while (token);
    const expected = utf8Sort([...SORTED.filter((k) => !k.includes("/")), "a/", "b/"]);
    assert.deepEqual(seen, expected);
  });

  test("StartAfter skips keys up to and including it", async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: "a/b/4.txt" }));
    assert.deepEqual(keysOf(page), SORTED.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from("a/b/4.txt")) > 0));
    assert.equal(page.StartAfter, "a/b/4.txt");
  });

  test("an invalid ContinuationToken → 400 InvalidArgument", async () => {
    await expectS3Error(
      () => s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: "not-a-token-we-issued" })),
      { name: "InvalidArgument", status: 400 },
    );
  });

  test("Owner is left out unless FetchOwner is true", async () => {
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2 }));
    for (const o of plain.Contents) assert.equal(o.Owner, undefined);
    const owned = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2, FetchOwner: true }));
    for (const o of owned.Contents) assert.ok(o.Owner?.ID, `no Owner.ID for ${o.Key}`);
  });

  test("a delimiter other than '/'", async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "-" }));
    const dashed = utf8Sort(["a-", "Z-", "unicode-"]);
    assert.deepEqual(prefixesOf(page), dashed);
    assert.deepEqual(keysOf(page), SORTED.filter((k) => !k.includes("-")));
  });

  test("paginateListObjectsV2 crosses several pages", async () => {
    const pages = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: bucket })) {
      pages.push(page);
      assert.ok(pages.length <= 20, "paginator does not terminate");
    }
    assert.equal(pages.length, Math.ceil(KEYS.length / 2));
    for (const p of pages.slice(0, -1)) {
      assert.equal(p.IsTruncated, true);
      assert.equal(p.KeyCount, 2);
    }
    assert.equal(pages.at(-1).IsTruncated, false);
    assert.deepEqual(pages.flatMap(keysOf), SORTED);
  });

  test("paginateListObjectsV2 with a Prefix", async () => {
    const keys = [];
    let n = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 1 }, { Bucket: bucket, Prefix: "a/b/" })) {
      n++;
      keys.push(...keysOf(page));
      assert.ok(n <= 10);
    }
    assert.deepEqual(keys, ["a/b/3.txt", "a/b/4.txt"]);
    assert.equal(n, 2);
  });
});

describe("ListObjects (v1)", () => {
  test("Marker starts after the given key", async () => {
    const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: "b/6.txt" }));
    assert.deepEqual(
      keysOf(page),
      SORTED.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from("b/6.txt")) > 0),
    );
    assert.equal(page.Marker, "b/6.txt");
    assert.equal(page.IsTruncated, false);
  });

  test("MaxKeys without Delimiter: truncated, no NextMarker, continue from the last key", async () => {
    const seen = [];
    let marker;
    let pages = 0;
    for (;;) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 4, Marker: marker }));
      pages++;
      const keys = keysOf(page);
      assert.ok(keys.length <= 4);
      seen.push(...keys);
      // "NextMarker ... is returned only if you have the delimiter request
      // parameter specified" (ListObjects reference).
      assert.equal(page.NextMarker, undefined);
      if (!page.IsTruncated) break;
      marker = keys.at(-1);
      assert.ok(pages < 20);
    }
    assert.equal(pages, Math.ceil(KEYS.length / 4));
    assert.deepEqual(seen, SORTED);
  });

  test("MaxKeys with Delimiter: NextMarker drives the next page", async () => {
    const seen = [];
    let marker;
    let pages = 0;
    for (;;) {
      const page = await s3.send(
        new ListObjectsCommand({ Bucket: bucket, Delimiter: "/", MaxKeys: 2, Marker: marker }),
      );
      pages++;
      seen.push(...keysOf(page), ...prefixesOf(page));
      if (!page.IsTruncated) break;
      assert.ok(page.NextMarker, "truncated v1 listing with a delimiter must carry NextMarker");
      marker = page.NextMarker;
      assert.ok(pages < 20);
    }
    assert.deepEqual(utf8Sort(seen), utf8Sort([...SORTED.filter((k) => !k.includes("/")), "a/", "b/"]));
    assert.equal(seen.length, new Set(seen).size, "an entry was listed twice");
  });
});

describe("DeleteObjects", () => {
  test("not quiet: every key reported as Deleted, missing ones too", async () => {
    const keys = ["del/1", "del/2", "del/3"];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: ops, Key: k, Body: k }));
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: ops,
        Delete: { Objects: [...keys, "del/never-existed"].map((Key) => ({ Key })) },
      }),
    );
    assert.deepEqual(
      (out.Deleted ?? []).map((d) => d.Key).sort(),
      [...keys, "del/never-existed"].sort(),
    );
    assert.equal((out.Errors ?? []).length, 0);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: ops, Prefix: "del/" }));
    assert.equal(left.KeyCount, 0);
  });

  test("Quiet: no Deleted entries, objects still removed", async () => {
    const keys = ["quiet/1", "quiet/2"];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: ops, Key: k, Body: k }));
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: ops,
        Delete: { Quiet: true, Objects: keys.map((Key) => ({ Key })) },
      }),
    );
    assert.equal((out.Deleted ?? []).length, 0);
    assert.equal((out.Errors ?? []).length, 0);
    for (const k of keys) {
      await expectS3Error(() => s3.send(new HeadObjectCommand({ Bucket: ops, Key: k })), { status: 404 });
    }
  });

  test("more than 1000 keys in one request → 400 MalformedXML", async () => {
    const Objects = Array.from({ length: 1001 }, (_, i) => ({ Key: `many/${i}` }));
    await expectS3Error(
      () => s3.send(new DeleteObjectsCommand({ Bucket: ops, Delete: { Objects } })),
      { name: "MalformedXML", status: 400 },
    );
  });

  test("on a missing bucket → NoSuchBucket", async () => {
    await expectS3Error(
      () =>
        s3.send(
          new DeleteObjectsCommand({ Bucket: "no-such-bucket-del", Delete: { Objects: [{ Key: "x" }] } }),
        ),
      { name: "NoSuchBucket", status: 404 },
    );
  });
});

describe("CopyObject", () => {
  before(async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: ops,
        Key: "copy/src.txt",
        Body: "copy me",
        ContentType: "text/plain",
        Metadata: { color: "red", origin: "source" },
      }),
    );
  });

  test("MetadataDirective REPLACE replaces metadata and content type, keeps bytes", async () => {
    const out = await s3.send(
      new CopyObjectCommand({
        Bucket: ops,
        Key: "copy/replaced.json",
        CopySource: `${ops}/copy/src.txt`,
        MetadataDirective: "REPLACE",
        ContentType: "application/json",
        Metadata: { color: "blue", shape: "round" },
      }),
    );
    assert.equal(out.CopyObjectResult.ETag, `"${md5Hex(Buffer.from("copy me"))}"`);
    assert.ok(out.CopyObjectResult.LastModified instanceof Date);

    const head = await s3.send(new HeadObjectCommand({ Bucket: ops, Key: "copy/replaced.json" }));
    assert.deepEqual(head.Metadata, { color: "blue", shape: "round" });
    assert.equal(head.ContentType, "application/json");
    assert.equal(head.ContentLength, 7);
    const got = await s3.send(new GetObjectCommand({ Bucket: ops, Key: "copy/replaced.json" }));
    assert.equal(await got.Body.transformToString(), "copy me");

    // The source is untouched.
    const src = await s3.send(new HeadObjectCommand({ Bucket: ops, Key: "copy/src.txt" }));
    assert.deepEqual(src.Metadata, { color: "red", origin: "source" });
    assert.equal(src.ContentType, "text/plain");
  });

  test("default MetadataDirective (COPY) keeps the source's metadata, ignoring new metadata", async () => {
    await s3.send(
      new CopyObjectCommand({
        Bucket: ops,
        Key: "copy/copied.txt",
        CopySource: `${ops}/copy/src.txt`,
        Metadata: { color: "ignored" },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: ops, Key: "copy/copied.txt" }));
    assert.deepEqual(head.Metadata, { color: "red", origin: "source" });
    assert.equal(head.ContentType, "text/plain");
  });

  test("copy across buckets with a URL-encoded source key", async () => {
    const other = "listing-copy-target";
    await s3.send(new CreateBucketCommand({ Bucket: other }));
    const srcKey = "unicode-\u00e9t\u00e9.txt";
    await s3.send(
      new CopyObjectCommand({
        Bucket: other,
        Key: "dest key \u2603.txt",
        CopySource: `${bucket}/${encodeURIComponent(srcKey)}`,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: other, Key: "dest key \u2603.txt" }));
    assert.equal(await got.Body.transformToString(), bodyOf(srcKey));
  });

  test("copying an object onto itself without REPLACE → 400 InvalidRequest; with REPLACE → 200", async () => {
    await expectS3Error(
      () =>
        s3.send(
          new CopyObjectCommand({ Bucket: ops, Key: "copy/src.txt", CopySource: `${ops}/copy/src.txt` }),
        ),
      { name: "InvalidRequest", status: 400 },
    );
    await s3.send(
      new PutObjectCommand({ Bucket: ops, Key: "copy/self.txt", Body: "self", Metadata: { v: "1" } }),
    );
    await s3.send(
      new CopyObjectCommand({
        Bucket: ops,
        Key: "copy/self.txt",
        CopySource: `${ops}/copy/self.txt`,
        MetadataDirective: "REPLACE",
        Metadata: { v: "2" },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: ops, Key: "copy/self.txt" }));
    assert.deepEqual(head.Metadata, { v: "2" });
  });

  test("copy-source conditions: If-Match wrong → 412, If-None-Match current → 412, If-Match right → 200", async () => {
    const src = await s3.send(new HeadObjectCommand({ Bucket: ops, Key: "copy/src.txt" }));
    await expectS3Error(
      () =>
        s3.send(
          new CopyObjectCommand({
            Bucket: ops,
            Key: "copy/cond",
            CopySource: `${ops}/copy/src.txt`,
            CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"',
          }),
        ),
      { name: "PreconditionFailed", status: 412 },
    );
    await expectS3Error(
      () =>
        s3.send(
          new CopyObjectCommand({
            Bucket: ops,
            Key: "copy/cond",
            CopySource: `${ops}/copy/src.txt`,
            CopySourceIfNoneMatch: src.ETag,
          }),
        ),
      { name: "PreconditionFailed", status: 412 },
    );
    await expectS3Error(() => s3.send(new HeadObjectCommand({ Bucket: ops, Key: "copy/cond" })), { status: 404 });
    const ok = await s3.send(
      new CopyObjectCommand({
        Bucket: ops,
        Key: "copy/cond",
        CopySource: `${ops}/copy/src.txt`,
        CopySourceIfMatch: src.ETag,
      }),
    );
    assert.equal(ok.CopyObjectResult.ETag, src.ETag);
  });

  test("copy from a missing source bucket → NoSuchBucket 404", async () => {
    await expectS3Error(
      () => s3.send(new CopyObjectCommand({ Bucket: ops, Key: "copy/y", CopySource: "no-such-source-bucket/k" })),
      { name: "NoSuchBucket", status: 404 },
    );
  });

  test("copy from a missing source key → NoSuchKey 404", async () => {
    await expectS3Error(
      () =>
        s3.send(
          new CopyObjectCommand({ Bucket: ops, Key: "copy/x", CopySource: `${ops}/copy/missing` }),
        ),
      { name: "NoSuchKey", status: 404 },
    );
  });
});
