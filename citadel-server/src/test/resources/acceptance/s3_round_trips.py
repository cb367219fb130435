"""Round trips of 0 B, 1 B, 8 MiB + 1 (past the multipart threshold) and 2 GiB with the AWS CLI v2
(`aws s3 sync` both ways) and boto3's managed transfer (upload_file/download_file, multipart at
the default thresholds), compared by SHA-256. Files are generated, never held in memory."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import boto3
from botocore.config import Config

work = sys.argv[1]
src, back = os.path.join(work, "src"), os.path.join(work, "back")
os.makedirs(src)
os.makedirs(back)
SIZES = {"empty": 0, "one": 1, "past-threshold": 8 * 1024 * 1024 + 1, "two-gib": 2 * 1024 * 1024 * 1024}


def generate(path, size):
    """Distinct content per MiB (a SHA-256 chain), so that reordered or repeated blocks are caught."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        block, left = hashlib.sha256(path.encode()).digest(), size
        while left > 0:
            block = hashlib.sha256(block).digest()
            chunk = (block * 32768)[:min(left, 1 << 20)]
            f.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def sha256(path):
    d = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            d.update(chunk)
    return d.hexdigest()


expected = {name: generate(os.path.join(src, name), size) for name, size in SIZES.items()}
R = {}
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="round-trips")

subprocess.run(["/usr/bin/aws", "s3", "sync", src, "s3://round-trips/cli/"], check=True, stdout=subprocess.DEVNULL)
subprocess.run(["/usr/bin/aws", "s3", "sync", "s3://round-trips/cli/", back], check=True, stdout=subprocess.DEVNULL)
R["cli"] = {name: os.path.exists(os.path.join(back, name)) and sha256(os.path.join(back, name)) == h for name, h in expected.items()}
listed = s3.list_objects_v2(Bucket="round-trips", Prefix="cli/")
R["cli_sizes"] = {o["Key"][4:]: o["Size"] for o in listed.get("Contents", [])} == SIZES
shutil.rmtree(back)
os.makedirs(back)

for name in SIZES:
    s3.upload_file(os.path.join(src, name), "round-trips", "boto3/" + name)
    s3.download_file("round-trips", "boto3/" + name, os.path.join(back, name))
R["boto3"] = {name: sha256(os.path.join(back, name)) == h for name, h in expected.items()}
R["boto3_multipart_etag"] = s3.head_object(Bucket="round-trips", Key="boto3/two-gib")["ETag"].endswith('-256"')

subprocess.run(["/usr/bin/aws", "s3", "rm", "--recursive", "s3://round-trips/"], check=True, stdout=subprocess.DEVNULL)
s3.delete_bucket(Bucket="round-trips")
shutil.rmtree(src)
shutil.rmtree(back)
print(json.dumps(R))
