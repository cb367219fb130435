"""After a restart: checks what crash_workload.py logged. Usage: crash_check.py JOB_WAIT_SECONDS all|last LOG...

Intents are read from every LOG; acknowledgements from every LOG (all) or from the last one (last).

- every acknowledged object reads back whole with its MD5 (and size);
- every object listed under o/ and m/ whose intent a log holds reads back exactly as intended
  (nothing partial, nothing mixed); one listed without an intent is reported as unknown;
- every acknowledged KMS key exists, every acknowledged ciphertext decrypts to its plaintext;
- every acknowledged IAM user exists and its acknowledged policy reads back as sent;
- every acknowledged training job exists; every job waits at most JOB_WAIT_SECONDS to end, then
  must be Completed with its model.tar.gz in the bucket, or Failed with a FailureReason
  (a job still InProgress then is reported as stuck).

Prints one JSON object: counts and the lists of findings (each list empty when all is well).
"""
import base64
import hashlib
import json
import sys
import time

import boto3
from botocore.config import Config

config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3})
s3 = boto3.client("s3", config=config)
kms = boto3.client("kms", config=config)
iam = boto3.client("iam", config=config)
sm = boto3.client("sagemaker", config=config)
account = boto3.client("sts", config=config).get_caller_identity()["Account"]
BUCKET = "crash-" + account

wait = float(sys.argv[1])
logs = sys.argv[3:]
acks, intents = [], {}
for path in logs:
    for line in open(path):
        if not line.endswith("\n"):
            continue  # the workload was killed while writing this line
        record = json.loads(line)
        if "intent" in record:
            intents[record["key"]] = record
        elif sys.argv[2] == "all" or path == logs[-1]:
            acks.append(record)

out = {"acks": len(acks), "bad_objects": [], "partial": [], "unknown": [], "bad_keys": [], "bad_ciphertexts": [],
       "bad_users": [], "missing_jobs": [], "stuck_jobs": [], "untruthful_jobs": [], "jobs": {}}


def md5_of(key):
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return hashlib.md5(body).hexdigest(), len(body)


for a in acks:
    kind = a["ack"]
    try:
        if kind in ("put", "mpu"):
            if md5_of(a["key"]) != (a["md5"], a["size"]):
                out["bad_objects"].append(a["key"])
        elif kind == "createkey":
            if kms.describe_key(KeyId=a["key"])["KeyMetadata"]["KeyState"] != "Enabled":
                out["bad_keys"].append(a["key"])
        elif kind == "encrypt":
            plain = kms.decrypt(CiphertextBlob=base64.b64decode(a["ciphertext"]))["Plaintext"]
            if hashlib.md5(plain).hexdigest() != a["md5"]:
                out["bad_ciphertexts"].append(a["rid"])
        elif kind == "user":
            iam.get_user(UserName=a["name"])
        elif kind == "policy":
            doc = iam.get_user_policy(UserName=a["name"], PolicyName="read")["PolicyDocument"]
            if json.loads(a["doc"]) != (doc if isinstance(doc, dict) else json.loads(doc)):
                out["bad_users"].append(a["name"] + " (policy differs)")
        elif kind == "job":
            sm.describe_training_job(TrainingJobName=a["name"])
    except Exception as e:  # a missing entity or a failed call is a finding, named by what was acknowledged
        target = {"put": "bad_objects", "mpu": "bad_objects", "createkey": "bad_keys", "encrypt": "bad_ciphertexts",
                  "user": "bad_users", "policy": "bad_users", "job": "missing_jobs"}.get(kind)
        if target:
            out[target].append("%s: %s" % (a.get("key") or a.get("name") or a["rid"], e))

for prefix in ("o/", "m/"):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for o in page.get("Contents", []):
            intent = intents.get(o["Key"])
            if intent is None:
                out["unknown"].append(o["Key"])
                continue
            md5, size = md5_of(o["Key"])
            if (md5, size) != (intent["md5"], intent["size"]) or o["Size"] != intent["size"]:
                out["partial"].append(o["Key"])

deadline = time.time() + wait
names = [j["TrainingJobName"] for p in sm.get_paginator("list_training_jobs").paginate() for j in p["TrainingJobSummaries"]]
for name in names:
    while True:
        d = sm.describe_training_job(TrainingJobName=name)
        if d["TrainingJobStatus"] not in ("InProgress", "Stopping") or time.time() > deadline:
            break
        time.sleep(0.5)
    status = d["TrainingJobStatus"]
    out["jobs"][status] = out["jobs"].get(status, 0) + 1
    if status in ("InProgress", "Stopping"):
        out["stuck_jobs"].append("%s: %s/%s" % (name, status, d["SecondaryStatus"]))
    elif status == "Completed":
        artifact = d.get("ModelArtifacts", {}).get("S3ModelArtifacts", "")
        key = artifact.split("/", 3)[3] if artifact.startswith("s3://") else ""
        try:
            s3.head_object(Bucket=BUCKET, Key=key)
        except Exception as e:
            out["untruthful_jobs"].append("%s: Completed but %s: %s" % (name, artifact, e))
    elif status == "Failed" and not d.get("FailureReason"):
        out["untruthful_jobs"].append("%s: Failed without a reason" % name)
    elif status == "Stopped":
        out["untruthful_jobs"].append("%s: Stopped, but no one stopped it" % name)
print(json.dumps(out))
