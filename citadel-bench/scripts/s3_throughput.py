"""S3 PUT and GET throughput of one large object through boto3's managed transfer (multipart, as
clients do it), against Citadel and against moto 5.2.1 on the same machine.

Run from the project root:
    ./citadel server --data-dir /tmp/citadel-s3-bench --listen 127.0.0.1:18443 &
    . /tmp/citadel-s3-bench/client/env
    python3 citadel-bench/scripts/s3_throughput.py --size-mib 256
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def measure(name, s3, path, size):
    bucket = "throughput"
    try:
        s3.create_bucket(Bucket=bucket)
    except Exception:
        pass
    cfg = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=4)
    t = time.monotonic()
    s3.upload_file(path, bucket, "object", Config=cfg)
    put = time.monotonic() - t
    back = path + ".back"
    t = time.monotonic()
    s3.download_file(bucket, "object", back, Config=cfg)
    get = time.monotonic() - t
    same = os.path.getsize(back) == size
    os.remove(back)
    s3.delete_object(Bucket=bucket, Key="object")
    print("| %s | %.0f | %.0f | %s |" % (name, size / put / 1e6, size / get / 1e6, "yes" if same else "NO"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size-mib", type=int, default=256)
    args = p.parse_args()
    size = args.size_mib << 20
    fd, path = tempfile.mkstemp()
    with os.fdopen(fd, "wb") as f:
        for _ in range(args.size_mib):
            f.write(os.urandom(1 << 20))
    print("| target (%d MiB, boto3 managed transfer, 8 MiB parts, 4 threads) | PUT MB/s | GET MB/s | intact |" % args.size_mib)
    print("|---|---:|---:|---|")
    measure("Citadel", boto3.client("s3", config=Config(s3={"addressing_style": "path"})), path, size)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(4)
        s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}))
        measure("moto 5.2.1", s3, path, size)
    finally:
        moto.terminate()
        os.remove(path)


if __name__ == "__main__":
    main()
