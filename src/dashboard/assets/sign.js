// SigV4 for runs that enforce signatures (`"auth": "enforce"`): requests are signed in the
// page with WebCrypto, as the default identity (parlel / parlel, always configured), at the
// run's clock (skew is judged against it). Payloads are UNSIGNED-PAYLOAD, as S3 allows.

const te = new TextEncoder();
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

export const ACCESS_KEY = "parlel";
const SECRET = "parlel";

/** AWS's URI encoding: everything but A-Z a-z 0-9 - _ . ~ percent-encoded. */
export const awsEncode = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function hmac(key, text) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, te.encode(text));
}

export const canSign = () => Boolean(globalThis.crypto?.subtle);

/**
 * The headers to add to a request: `x-amz-date`, `x-amz-content-sha256`, `authorization`.
 * `path` is the encoded path as sent, `query` the encoded query string as sent (or ""),
 * `headers` the request's other headers (every one is signed), `at` the instant (ms).
 */
export async function sign({ method, path, query, headers, region, at }) {
  const date = new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = date.slice(0, 8);
  const all = { ...lower(headers), host: location.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": date };
  const names = Object.keys(all).sort();
  const canonicalQuery = (query || "")
    .split("&")
    .filter(Boolean)
    .map((p) => {
      const [k, v = ""] = p.split(/=(.*)/s);
      return [awsEncode(decodeURIComponent(k)), awsEncode(decodeURIComponent(v))];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = [
    method,
    path.split("/").map((s) => awsEncode(decodeURIComponent(s))).join("/"),
    canonicalQuery,
    ...names.map((n) => `${n}:${String(all[n]).trim().replace(/\s+/g, " ")}`),
    "",
    names.join(";"),
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, hex(await crypto.subtle.digest("SHA-256", te.encode(canonical)))].join("\n");
  let key = await hmac(te.encode(`AWS4${SECRET}`), day);
  for (const part of [region, "s3", "aws4_request"]) key = await hmac(key, part);
  const signature = hex(await hmac(key, toSign));
  return {
    "x-amz-date": date,
    "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}

function lower(headers = {}) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
