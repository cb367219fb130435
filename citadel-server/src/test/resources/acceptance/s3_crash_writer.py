"""Puts objects from 100 threads at once (100 PUTs in flight) until stopped; records each acknowledged key and its MD5 (one line,
flushed)."""
import hashlib
import os
import sys
import threading

import boto3
import botocore.exceptions
from botocore.config import Config

acks = open(sys.argv[1], "a", buffering=1)
lock = threading.Lock()
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=2,
                                      read_timeout=30, max_pool_connections=100))
try:
    s3.create_bucket(Bucket="crash")
except botocore.exceptions.ClientError:
    pass


def writer(n):
    for i in range(50):
        body = os.urandom(64 * 1024 + n * 1000 + i)
        key = "w%02d/%03d" % (n, i)
        try:
            s3.put_object(Bucket="crash", Key=key, Body=body)
        except Exception:
            return
        with lock:
            acks.write("%s %s\n" % (key, hashlib.md5(body).hexdigest()))


threads = [threading.Thread(target=writer, args=(n,)) for n in range(100)]
for t in threads:
    t.start()
for t in threads:
    t.join()
