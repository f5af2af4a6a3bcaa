"""What boto3 reads of one object: HeadObject and GetObjectTagging, as JSON on stdout.

    python boto3_head.py ENDPOINT BUCKET KEY
"""

import json
import sys

import boto3
from botocore.config import Config

endpoint, bucket, key = sys.argv[1:4]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="parlel",
    aws_secret_access_key="parlel",
    config=Config(s3={"addressing_style": "path"}),
)
head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
print(
    json.dumps(
        {
            "ContentType": head["ContentType"],
            "ContentLength": head["ContentLength"],
            "ETag": head["ETag"],
            "Metadata": head["Metadata"],
            "StorageClass": head.get("StorageClass", "STANDARD"),
            "ChecksumCRC32": head.get("ChecksumCRC32"),
            "Tags": {t["Key"]: t["Value"] for t in tags},
        }
    )
)
