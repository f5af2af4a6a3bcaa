"""Helpers shared by the s3twin Python client tests.

Nothing here knows about s3twin internals: checksums are computed with
independent implementations (zlib, hashlib, or the textbook table-driven
CRCs below), and raw requests are signed with botocore's own SigV4 signer
so they look exactly like what an AWS SDK would send.
"""

import base64
import hashlib
import http.client
import json
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ACCESS_KEY = "parlel"
SECRET_KEY = "parlel"
REGION = "us-east-1"

S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


# --------------------------------------------------------------------------
# Checksums (all returned the way S3 transmits them: base64 of the
# big-endian digest bytes)
# --------------------------------------------------------------------------

def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def md5_b64(data: bytes) -> str:
    return b64(hashlib.md5(data).digest())


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256_b64(data: bytes) -> str:
    return b64(hashlib.sha256(data).digest())


def sha1_b64(data: bytes) -> str:
    return b64(hashlib.sha1(data).digest())


def crc32_b64(data: bytes) -> str:
    return b64((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big"))


def _reflected_table(poly: int, width: int):
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _reflected_table(0x82F63B78, 32)
_CRC64NVME_TABLE = _reflected_table(0x9A6C9329AC4BC9B5, 64)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    t = _CRC32C_TABLE
    for byte in data:
        crc = t[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc64nvme(data: bytes) -> int:
    mask = 0xFFFFFFFFFFFFFFFF
    crc = mask
    t = _CRC64NVME_TABLE
    for byte in data:
        crc = t[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


# Self-check against the published check values ("123456789") so a broken
# helper can never make a wrong server look right.
assert crc32c(b"123456789") == 0xE3069283
assert crc64nvme(b"123456789") == 0xAE8B14860A799888
assert zlib.crc32(b"123456789") == 0xCBF43926


def crc32c_b64(data: bytes) -> str:
    return b64(crc32c(data).to_bytes(4, "big"))


def crc64nvme_b64(data: bytes) -> str:
    return b64(crc64nvme(data).to_bytes(8, "big"))


# --------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------

class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-cased names
        self.body = body

    def xml(self):
        return ET.fromstring(self.body)

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"RawResponse({self.status}, {self.headers!r}, {self.body[:500]!r})"


def raw_request(method, url, body=b"", headers=None, sign=True, timeout=60,
                unsigned_payload=False, signed_body=None, streaming_trailer=False):
    """Send one HTTP request with http.client and return a RawResponse.

    When ``sign`` is true the request is signed with botocore's S3 SigV4
    signer (credentials parlel/parlel, us-east-1), exactly as an SDK would.
    Header values may contain non-ASCII text; they are sent as UTF-8 bytes.
    ``unsigned_payload`` signs with x-amz-content-sha256: UNSIGNED-PAYLOAD;
    ``signed_body`` signs a different body than the one sent (to provoke a
    payload hash mismatch); ``streaming_trailer`` signs with
    STREAMING-UNSIGNED-PAYLOAD-TRAILER (the body must then be aws-chunked).
    """
    headers = dict(headers or {})
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if sign:
        req = AWSRequest(method=method, url=url,
                         data=body if signed_body is None else signed_body,
                         headers=headers)
        if unsigned_payload:
            req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        if streaming_trailer:
            req.context["checksum"] = {"request_algorithm": {"in": "trailer"}}
        S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
        send_headers = [(k, v) for k, v in req.headers.items()]
    else:
        send_headers = list(headers.items())
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        names = {k.lower() for k, _ in send_headers}
        for k, v in send_headers:
            if isinstance(v, str):
                v = v.encode("utf-8")
            conn.putheader(k, v)
        if "content-length" not in names and (body or method in ("PUT", "POST")):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            conn.send(body)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return RawResponse(resp.status, hdrs, data)
    finally:
        conn.close()


def admin(endpoint, method, path, timeout=30, body=None):
    """Call an s3twin admin endpoint (JSON) without signing; ``body`` is sent as JSON
    (a ``bytes`` body as it is)."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return raw_request(method, endpoint.rstrip("/") + path, body=body or b"", sign=False,
                       timeout=timeout)


# --------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------

def strip_ns(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def xml_child_text(root, name):
    for child in root:
        if strip_ns(child.tag) == name:
            return child.text
    return None


def utf8_sorted(keys):
    """Sort the way S3 lists keys: by the UTF-8 bytes of the key."""
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def aws_chunked(body: bytes, chunk_size: int = 64 * 1024, trailers=None) -> bytes:
    """Encode ``body`` in the unsigned aws-chunked format with trailers, as
    the AWS SDKs send it with STREAMING-UNSIGNED-PAYLOAD-TRAILER."""
    out = bytearray()
    for i in range(0, len(body), chunk_size):
        chunk = body[i:i + chunk_size]
        out += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    out += b"0\r\n"
    for name, value in (trailers or {}).items():
        out += f"{name}:{value}\r\n".encode()
    out += b"\r\n"
    return bytes(out)
