"""Sends requests from 16 threads until the server dies: IAM CreateUser calls (mutating, so each one's
event is a management write) and STS GetCallerIdentity calls; records the request id of every call
answered with success (one line, flushed, after the response)."""
import sys
import threading

import boto3
from botocore.config import Config

acks = open(sys.argv[1], "a", buffering=1)
lock = threading.Lock()
config = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10, max_pool_connections=16)
iam = boto3.client("iam", config=config)
sts = boto3.client("sts", config=config)


def writer(n):
    for i in range(10_000):
        try:
            if i % 2 == 0:
                r = iam.create_user(UserName="crash-%02d-%05d" % (n, i))
            else:
                r = sts.get_caller_identity()
        except Exception:
            return
        with lock:
            acks.write(r["ResponseMetadata"]["RequestId"] + "\n")


threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
