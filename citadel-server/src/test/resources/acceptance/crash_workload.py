"""The mixed workload of CrashConsistencyTest, run until the server is killed.

Usage: crash_workload.py LOG SEED RUN IMAGE

Eight threads, each with its own random.Random(SEED * 100 + thread), call S3 (PutObject of 0 B to
3 MiB, multipart uploads of a 5 MiB part and a tail), KMS (CreateKey, Encrypt), IAM (CreateUser,
PutUserPolicy) and, on thread 0, SageMaker CreateTrainingJob with the image IMAGE; names carry the
run number RUN so that runs on one data directory never collide. Before a write is sent its intent
is logged; after it is answered with success, its acknowledgement. LOG receives one JSON object
per line, flushed at once:

  {"intent": "put", "key": K, "md5": M, "size": N}          before PutObject / a multipart upload
  {"ack": KIND, "rid": REQUEST_ID, ...}                    after a successful call, with what to check:
    put / mpu: key, md5, size       createkey: key         encrypt: key, ciphertext (base64), md5
    user: name                      policy: name, doc      job: name
    mpu-step: (a CreateMultipartUpload or UploadPart: only its audit event is checked)

A thread stops at the first failure (the server is gone).
"""
import base64
import hashlib
import json
import random
import sys
import threading

import boto3
from botocore.config import Config

log = open(sys.argv[1], "a", buffering=1)
seed = int(sys.argv[2])
run = int(sys.argv[3])
image = sys.argv[4]
lock = threading.Lock()
config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=2, read_timeout=30,
                max_pool_connections=16)
s3 = boto3.client("s3", config=config)
kms = boto3.client("kms", config=config)
iam = boto3.client("iam", config=config)
sm = boto3.client("sagemaker", config=config)
account = boto3.client("sts", config=config).get_caller_identity()["Account"]
BUCKET = "crash-" + account
SIZES = [0, 1, 100, 4096, 65536, 300_000, 1 << 20, 3 << 20]


def write(record):
    with lock:
        log.write(json.dumps(record) + "\n")


def rid(response):
    return response["ResponseMetadata"]["RequestId"]


def put(rng, key):
    body = rng.randbytes(rng.choice(SIZES))
    md5 = hashlib.md5(body).hexdigest()
    write({"intent": "put", "key": key, "md5": md5, "size": len(body)})
    r = s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    write({"ack": "put", "rid": rid(r), "key": key, "md5": md5, "size": len(body)})


def multipart(rng, key):
    parts = [rng.randbytes(5 << 20), rng.randbytes(rng.randrange(1, 300_000))]
    whole = b"".join(parts)
    md5 = hashlib.md5(whole).hexdigest()
    write({"intent": "put", "key": key, "md5": md5, "size": len(whole)})
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)
    write({"ack": "mpu-step", "rid": rid(up)})
    done = []
    for n, body in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body)
        write({"ack": "mpu-step", "rid": rid(r)})
        done.append({"PartNumber": n, "ETag": r["ETag"]})
    r = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": done})
    write({"ack": "mpu", "rid": rid(r), "key": key, "md5": md5, "size": len(whole)})


def create_key():
    r = kms.create_key(Description="crash run %d" % run)
    write({"ack": "createkey", "rid": rid(r), "key": r["KeyMetadata"]["KeyId"]})
    return r["KeyMetadata"]["KeyId"]


def encrypt(rng, key):
    plaintext = rng.randbytes(rng.randrange(1, 4096))
    r = kms.encrypt(KeyId=key, Plaintext=plaintext)
    write({"ack": "encrypt", "rid": rid(r), "key": key, "ciphertext": base64.b64encode(r["CiphertextBlob"]).decode(),
           "md5": hashlib.md5(plaintext).hexdigest()})


def user(name):
    r = iam.create_user(UserName=name)
    write({"ack": "user", "rid": rid(r), "name": name})
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                              "Resource": "arn:aws:s3:::%s/%s/*" % (BUCKET, name)}]})
    r = iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=doc)
    write({"ack": "policy", "rid": rid(r), "name": name, "doc": doc})


def job(rng, name):
    seconds = rng.choice([0, 0, 1, 2])
    r = sm.create_training_job(
        TrainingJobName=name, RoleArn="arn:aws:iam::%s:role/CrashJobs" % account,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File", "ContainerEntrypoint": ["/bin/sh", "-c"],
                                "ContainerArguments": ["echo %s > /opt/ml/model/name; sleep %d" % (name, seconds)]},
        OutputDataConfig={"S3OutputPath": "s3://%s/jobs" % BUCKET},
        ResourceConfig={"InstanceType": "ml.t3.medium", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 300})
    write({"ack": "job", "rid": rid(r), "name": name})


def worker(n):
    rng = random.Random(seed * 100 + n)
    key = None
    jobs = 0
    try:
        for i in range(100_000):
            name = "r%03d-t%d-%05d" % (run, n, i)
            if n == 0 and jobs < 2 and i % 4 == 0:
                jobs += 1
                job(rng, "j-" + name)
                continue
            p = rng.random()
            if p < 0.45:
                put(rng, "o/" + name)
            elif p < 0.50:
                multipart(rng, "m/" + name)
            elif p < 0.58 or key is None:
                key = create_key()
            elif p < 0.80:
                encrypt(rng, key)
            else:
                user("u-" + name)
    except Exception:
        return


threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
