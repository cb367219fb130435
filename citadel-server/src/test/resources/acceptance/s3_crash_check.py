"""After the restart: every acknowledged object reads back intact, and everything listed reads back whole."""
import hashlib
import json
import sys

import boto3
from botocore.config import Config

s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
acked = dict(line.split() for line in open(sys.argv[1]) if line.strip())
bad = []
for key, md5 in acked.items():
    body = s3.get_object(Bucket="crash", Key=key)["Body"].read()
    if hashlib.md5(body).hexdigest() != md5:
        bad.append(key)
listed = [o for p in s3.get_paginator("list_objects_v2").paginate(Bucket="crash") for o in p.get("Contents", [])]
partial = []
for o in listed:
    body = s3.get_object(Bucket="crash", Key=o["Key"])["Body"].read()
    if len(body) != o["Size"] or '"%s"' % hashlib.md5(body).hexdigest() != o["ETag"]:
        partial.append(o["Key"])
print(json.dumps({"acked": len(acked), "bad": bad, "listed": len(listed), "partial": partial}))
