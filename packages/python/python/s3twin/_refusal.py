"""Destructive-call refusal: a botocore hook that keeps test code from reaching real AWS."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

_AWS_HOST = re.compile(r"(^|\.)amazonaws\.com(\.cn)?\.?$", re.IGNORECASE)
_KEY_ID = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{16}$")


class ProductionCallRefused(Exception):
    """A request to AWS signed with production-looking keys was refused."""


def looks_like_production_keys(access_key_id: Any, secret_access_key: Any) -> bool:
    """An AKIA/ASIA access key id with a 40-character secret: shaped like real AWS keys."""
    return (
        isinstance(access_key_id, str)
        and bool(_KEY_ID.match(access_key_id))
        and isinstance(secret_access_key, str)
        and len(secret_access_key) == 40
    )


def _allowed() -> bool:
    return os.environ.get("S3TWIN_ALLOW_PRODUCTION") == "1"


def _before_sign(request: Any, request_signer: Any = None, operation_name: str = "", **_: Any) -> None:
    host = urlsplit(getattr(request, "url", "") or "").hostname or ""
    if not _AWS_HOST.search(host) or _allowed():
        return
    credentials = getattr(request_signer, "_credentials", None)
    if credentials is None:
        return  # unsigned
    frozen = credentials.get_frozen_credentials()
    if looks_like_production_keys(frozen.access_key, frozen.secret_key):
        key = frozen.access_key
        raise ProductionCallRefused(
            f"s3twin refused to send {operation_name or 'a request'} to {host}: the credentials "
            f"look like real AWS keys (access key id {key[:4]}…{key[-4:]} with a 40-character "
            "secret), and this client is guarded against reaching AWS from tests. Point it at "
            "s3twin (run.client(), or run.endpoint as endpoint_url), or, if you mean to call "
            "AWS, allow it: run.client(allow_production=True), a client without "
            "s3twin.refuse_production(), or the environment variable S3TWIN_ALLOW_PRODUCTION=1."
        )


def refuse_production(target: Any) -> Any:
    """Registers the refusal on a boto3/botocore client or session (every client it makes).

    Requests (and presigned URLs) for ``*.amazonaws.com`` signed with production-looking keys
    raise ``ProductionCallRefused`` before anything is sent. Returns ``target``.
    """
    if hasattr(target, "meta") and hasattr(target.meta, "events"):
        events = target.meta.events  # a client
    elif hasattr(target, "events"):
        events = target.events  # a boto3 Session
    elif hasattr(target, "get_component"):
        events = target.get_component("event_emitter")  # a botocore Session
    else:
        raise TypeError("refuse_production takes a boto3/botocore client or session")
    events.register("before-sign", _before_sign, unique_id="s3twin-refuse-production")
    return target
