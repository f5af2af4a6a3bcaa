// Object round trips: awkward keys, stored headers and metadata, response
// header overrides, and the other flexible-checksum algorithms.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";

import {
  crc32Base64,
  crc32cBase64,
  expectS3Error,
  makeClient,
  md5Hex,
  newRunId,
  recordRequests,
  resetRun,
  sha1Base64,
  sha256Base64,
} from "./helpers.mjs";

const runId = newRunId("objects");
const bucket = "objects";
const s3 = makeClient({ runId });
const rec = recordRequests(s3);

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3.destroy();
  await resetRun(runId);
});

const utf8Sort = (arr) => [...arr].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

describe("keys", () => {
  // Characters S3 allows in keys that are easy to mangle in URLs or XML.
  const KEYS = [
    "special/plus+sign.txt",
    "special/percent%20literal.txt",
    "special/question?mark",
    "special/hash#tag",
    "special/semi;colon=eq&amp",
    "special/tilde~and'quote",
    "special/dir//double//slash",
    "special/<xml> & \"quotes\"",
    "special/ leading and trailing space ",
    "special/\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.txt",
    "special/emoji-\u{1f600}.bin",
    "special/colon:at@dollar$comma,",
    "special/brackets[]{}()!*",
  ];

  before(async () => {
    for (const k of KEYS) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `content of ${k}` }));
    }
  });

  for (const k of KEYS) {
    test(`GetObject / HeadObject round-trip ${JSON.stringify(k)}`, async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      assert.equal(await got.Body.transformToString(), `content of ${k}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k }));
      assert.equal(head.ContentLength, Buffer.byteLength(`content of ${k}`));
    });
  }

  test("ListObjectsV2 returns every awkward key exactly, in UTF-8 binary order", async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "special/" }));
    assert.deepEqual((page.Contents ?? []).map((o) => o.Key), utf8Sort(KEYS));
  });

  test("a key 1024 bytes long is accepted; 1025 bytes → KeyTooLongError 400", async () => {
    const ok = "k/" + "x".repeat(1022);
    assert.equal(Buffer.byteLength(ok), 1024);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: ok, Body: "max" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: ok }));
    assert.equal(await got.Body.transformToString(), "max");

    const tooLong = "k/" + "x".repeat(1023);
    await expectS3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: tooLong, Body: "no" })), {
      name: "KeyTooLongError",
      status: 400,
    });
  });

  test("overwrite replaces the object; delete removes it", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "over/write", Body: "first" }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "over/write", Body: "second!" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "over/write" }));
    assert.equal(await got.Body.transformToString(), "second!");
    assert.equal(got.ETag, `"${md5Hex(Buffer.from("second!"))}"`);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "over/" }));
    assert.deepEqual((list.Contents ?? []).map((o) => [o.Key, o.Size]), [["over/write", 7]]);

    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "over/write" }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectS3Error(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: "over/write" })), {
      name: "NoSuchKey",
      status: 404,
    });
  });
});

describe("stored headers and metadata", () => {
  test("standard headers and user metadata come back on HeadObject and GetObject", async () => {
    const before = Date.now();
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "meta/doc.txt",
        Body: "with headers",
        ContentType: "text/plain; charset=utf-8",
        CacheControl: "max-age=60",
        ContentDisposition: 'attachment; filename="doc.txt"',
        ContentLanguage: "en-GB",
        Metadata: { "Mixed-Case": "Value One", plain: "2" },
      }),
    );
    for (const out of [
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "meta/doc.txt" })),
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "meta/doc.txt" })),
    ]) {
      assert.equal(out.ContentType, "text/plain; charset=utf-8");
      assert.equal(out.CacheControl, "max-age=60");
      assert.equal(out.ContentDisposition, 'attachment; filename="doc.txt"');
      assert.equal(out.ContentLanguage, "en-GB");
      assert.equal(out.ContentLength, 12);
      assert.equal(out.ETag, `"${md5Hex(Buffer.from("with headers"))}"`);
      // User-defined metadata names are stored in lowercase.
      assert.deepEqual(out.Metadata, { "mixed-case": "Value One", plain: "2" });
      assert.ok(out.LastModified instanceof Date);
      // Last-Modified has second precision (HTTP date).
      assert.ok(out.LastModified.getTime() >= Math.floor(before / 1000) * 1000 - 60_000);
      assert.ok(out.LastModified.getTime() <= Date.now() + 60_000);
      assert.equal(out.AcceptRanges, "bytes");
      if (out.Body) await out.Body.transformToString();
    }
  });

  test("without a Content-Type the object is binary/octet-stream", async () => {
    // The JS SDK adds application/octet-stream for binary bodies; strip it
    // before signing so the request really carries no Content-Type, as
    // boto3's does.
    const client = makeClient({ runId });
    const crec = recordRequests(client);
    client.middlewareStack.add(
      (next) => async (args) => {
        delete args.request.headers["content-type"];
        return next(args);
      },
      { step: "build", priority: "low", name: "dropContentType" },
    );
    try {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: "meta/untyped", Body: Buffer.from([1, 2, 3]) }),
      );
    } finally {
      client.destroy();
    }
    assert.equal(crec.requests.at(-1).headers["content-type"], undefined);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "meta/untyped" }));
    // S3's default content type (AWS SDK docs: "This property defaults to
    // binary/octet-stream").
    assert.equal(head.ContentType, "binary/octet-stream");
  });

  test("GetObject response-* overrides set the response headers", async () => {
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: "meta/doc.txt",
        ResponseContentType: "application/x-override",
        ResponseContentDisposition: "inline",
        ResponseCacheControl: "no-store",
        ResponseContentLanguage: "fr",
      }),
    );
    assert.equal(out.ContentType, "application/x-override");
    assert.equal(out.ContentDisposition, "inline");
    assert.equal(out.CacheControl, "no-store");
    assert.equal(out.ContentLanguage, "fr");
    assert.equal(await out.Body.transformToString(), "with headers");
    // The stored object is unchanged.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "meta/doc.txt" }));
    assert.equal(head.ContentType, "text/plain; charset=utf-8");
  });
});

describe("other checksum algorithms", () => {
  const cases = [
    ["CRC32C", "ChecksumCRC32C", "x-amz-checksum-crc32c", crc32cBase64],
    ["SHA1", "ChecksumSHA1", "x-amz-checksum-sha1", sha1Base64],
    ["SHA256", "ChecksumSHA256", "x-amz-checksum-sha256", sha256Base64],
  ];
  for (const [alg, member, header, fn] of cases) {
    test(`streamed upload with ChecksumAlgorithm ${alg}: trailer verified and checksum kept`, async () => {
      const data = crypto.randomBytes(200_000);
      const key = `alg/stream-${alg}`;
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]),
          ContentLength: data.length,
          ChecksumAlgorithm: alg,
        }),
      );
      const req = rec.requests.filter((r) => r.method === "PUT").at(-1);
      assert.equal(req.headers["x-amz-trailer"], header, "SDK did not send the checksum as a trailer");
      assert.equal(put[member], fn(data));

      const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
      assert.equal(obj[member], fn(data));
      assert.ok(Buffer.from(await obj.Body.transformToByteArray()).equals(data));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
      assert.equal(head[member], fn(data));
    });

    test(`non-streamed upload with a wrong ${alg} header → BadDigest`, async () => {
      const data = Buffer.from(`payload for ${alg}`);
      const ok = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `alg/plain-${alg}`, Body: data, ChecksumAlgorithm: alg }),
      );
      assert.equal(ok[member], fn(data));
      await expectS3Error(
        () =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `alg/wrong-${alg}`,
              Body: data,
              [member]: fn(Buffer.from("other bytes")),
            }),
          ),
        { name: "BadDigest", status: 400 },
      );
      await expectS3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `alg/wrong-${alg}` })), {
        status: 404,
      });
    });
  }

  test("GetObject with ChecksumMode returns the CRC32 the SDK sent for a plain upload", async () => {
    const data = Buffer.from("crc32 by default");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "alg/default", Body: data }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "alg/default", ChecksumMode: "ENABLED" }));
    assert.equal(head.ChecksumCRC32, crc32Base64(data));
  });
});

describe("buckets", () => {
  test("HeadBucket reports the bucket's region; GetBucketLocation is empty for us-east-1", async () => {
    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    assert.equal(head.BucketRegion, "us-east-1");
    // "Buckets in Region us-east-1 have a LocationConstraint of null."
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    assert.ok(!loc.LocationConstraint, `LocationConstraint is ${loc.LocationConstraint}`);
  });

  test("ListBuckets lists the run's buckets by name with creation dates and an owner", async () => {
    const freshRun = newRunId("objects-lb");
    const fresh = makeClient({ runId: freshRun });
    try {
      const made = ["zz-last", "aa-first", "mm-middle"];
      const t0 = Date.now();
      for (const b of made) await fresh.send(new CreateBucketCommand({ Bucket: b }));
      const out = await fresh.send(new ListBucketsCommand({}));
      assert.deepEqual((out.Buckets ?? []).map((b) => b.Name), ["aa-first", "mm-middle", "zz-last"]);
      for (const b of out.Buckets) {
        assert.ok(b.CreationDate instanceof Date, `${b.Name} has no CreationDate`);
        assert.ok(Math.abs(b.CreationDate.getTime() - t0) < 10 * 60 * 1000);
      }
      assert.ok(out.Owner?.ID, "ListBuckets has no Owner.ID");
    } finally {
      fresh.destroy();
      await resetRun(freshRun);
    }
  });
});
