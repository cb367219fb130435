#!/usr/bin/env bash
# InvokeEndpoint's added latency and throughput against calling the same serving container directly
# through its port bridge (DESIGN.md §11: added p50 <= 1 ms, added p99 <= 5 ms, throughput >= 80 %).
#   scripts/invoke-latency.sh [SECONDS] [ROUNDS] [--set KEY=VALUE ...]
#       (default 3 rounds of 10 s measured per path; --set goes to the server, e.g.
#        --set audit.log=/dev/shm/invoke-audit.jsonl to see what the audit log's fdatasync costs)
# Starts its own Citadel (./citadel server, embedded defaults, a temporary data directory, a free
# loopback port; scripts/lib-server.sh), builds the scikit-learn serving image (the cached
# scripts/test-images.sh sklearn base plus examples/sklearn-image/{train,serve}), pushes it, trains
# a logistic regression on 300 CSV rows with it, and deploys the model behind the endpoint "bench"
# (one variant, one ml.t3.medium instance). Then the load tool (./citadel bench --operation
# invoke-endpoint) sends the same one-row CSV invocation over keep-alive connections, one thread
# each, on two paths to that one container, which take turns ROUNDS times (direct, citadel,
# direct, …; each turn a 5 s warm-up, then SECONDS measured), so that the shared machine's
# changing load weighs on both alike:
#   direct   HTTP/1.1 POST /invocations on <data-dir>/sandbox/runs/<run-id>/port-8080.sock, the
#            root-only Unix socket Citadel itself uses (nsenter + socat into the container's
#            network namespace), with the head Citadel sends;
#   citadel  POST /endpoints/bench/invocations over HTTPS, signed with SigV4 as the admin of
#            <data-dir>/client/env (signed once, then replayed).
# Once at concurrency 16 (the target's), then at concurrency 1 (the added latency of a lone call).
# Prints each table with the load average before and after, the CPU time per call of the load
# tool, the server, the serving container and the bridge (from /proc), and the latency of an
# fdatasync on the data directory's disk just before (every acknowledged call waits for the audit
# log's); then deletes the endpoint, stops the server and reports any mount, loop device or
# bridge left behind.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_MEASURED=${1:-10}
ROUNDS=${2:-3}
shift $(( $# < 2 ? $# : 2 ))
SERVER_SETTINGS=("$@")   # --set KEY=VALUE ..., for the server
WARMUP=5
for tool in skopeo umoci python3 runc socat nsenter; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (./citadel test installs it)" >&2; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "run as root: runc, and the direct path's root-only socket, need it" >&2; exit 2; }
BASE=$("$ROOT/scripts/test-images.sh" sklearn | awk '$1 == "sklearn" {print $2}')

WORK=$(mktemp -d /var/tmp/citadel-invoke-bench.XXXXXX)
chmod 711 "$WORK"   # containers reach their root file system through the data directory's parents
. "$ROOT/scripts/lib-server.sh"
cleanup() {
  citadel_stop
  local left
  left=$( { grep -F "$WORK/" /proc/self/mounts || true; losetup -a | grep -F "$WORK/" || true; pgrep -af "UNIX-LISTEN:$WORK/" || true; } )
  if [[ -n "$left" ]]; then
    echo "left behind after the server stopped (not removed: look at it):" >&2
    echo "$left" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# The serving image: the scikit-learn base with train and serve on the PATH, as examples/quickstart.sh builds it.
# Hard links to the cache's blobs (umoci writes new blobs and replaces index.json), index.json copied.
cp -al "$BASE" "$WORK/image" 2>/dev/null || cp -a "$BASE" "$WORK/image"
cp --remove-destination "$BASE/index.json" "$WORK/image/index.json"
umoci insert --image "$WORK/image:latest" --tag serve "$ROOT/examples/sklearn-image/train" /usr/local/bin/train >/dev/null
umoci insert --image "$WORK/image:serve" "$ROOT/examples/sklearn-image/serve" /usr/local/bin/serve >/dev/null
umoci config --image "$WORK/image:serve" --clear=config.entrypoint

citadel_start "$WORK" "${SERVER_SETTINGS[@]}"
IMAGE=$(citadel_push "oci:$WORK/image:serve" bench-sklearn v1)

# Role, data, training job, model, endpoint configuration, endpoint; waits until InService.
python3 - "$IMAGE" <<'EOF'
import json, random, sys, time
import boto3

image = sys.argv[1]
account = boto3.client("sts").get_caller_identity()["Account"]
s3, iam, sm = boto3.client("s3"), boto3.client("iam"), boto3.client("sagemaker")
bucket = "bench-%s" % account
s3.create_bucket(Bucket=bucket)
rnd = random.Random(1)
rows = [(1 if x1 + x2 > 1 else 0, x1, x2) for x1, x2 in ((rnd.uniform(-1, 2), rnd.uniform(-1, 2)) for _ in range(300))]
s3.put_object(Bucket=bucket, Key="train/data.csv", Body="".join("%d,%.6f,%.6f\n" % r for r in rows).encode())
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="Bench", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
iam.put_role_policy(RoleName="Bench", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"]},
    {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}]}))
time.sleep(10)  # IAM's caches are per second; let the role settle before the first job

def wait(describe, field, limit):
    deadline = time.time() + limit
    while time.time() < deadline:
        d = describe()
        if d[field] not in ("InProgress", "Stopping", "Creating", "Updating"):
            return d
        time.sleep(1)
    sys.exit("still %s after %d s" % (d[field], limit))

started = time.time()
sm.create_training_job(TrainingJobName="bench", RoleArn=role, AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
                       InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv",
                                         "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/train/" % bucket}}}],
                       OutputDataConfig={"S3OutputPath": "s3://%s/output" % bucket},
                       ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                       StoppingCondition={"MaxRuntimeInSeconds": 600})
d = wait(lambda: sm.describe_training_job(TrainingJobName="bench"), "TrainingJobStatus", 900)
if d["TrainingJobStatus"] != "Completed":
    sys.exit("training failed: %s" % d.get("FailureReason"))
print("trained in %.0f s: %s" % (time.time() - started, d["ModelArtifacts"]["S3ModelArtifacts"]), file=sys.stderr)
started = time.time()
sm.create_model(ModelName="bench", ExecutionRoleArn=role, PrimaryContainer={"Image": image, "ModelDataUrl": d["ModelArtifacts"]["S3ModelArtifacts"]})
sm.create_endpoint_config(EndpointConfigName="bench", ProductionVariants=[
    {"VariantName": "main", "ModelName": "bench", "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium"}])
sm.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
d = wait(lambda: sm.describe_endpoint(EndpointName="bench"), "EndpointStatus", 900)
if d["EndpointStatus"] != "InService":
    sys.exit("the endpoint did not come up: %s" % d.get("FailureReason"))
answer = boto3.client("sagemaker-runtime").invoke_endpoint(EndpointName="bench", ContentType="text/csv", Body="1.5,0.9")["Body"].read()
print("endpoint InService after %.0f s; boto3 InvokeEndpoint 1.5,0.9 -> %r" % (time.time() - started, answer), file=sys.stderr)
EOF

# The endpoint's one container: its port bridge is the only port-8080 socket of this data directory.
mapfile -t SOCKETS < <(find "$CITADEL_DATA/sandbox/runs" -maxdepth 2 -name port-8080.sock -type s)
(( ${#SOCKETS[@]} == 1 )) || { echo "expected one serving container's port-8080.sock, found ${#SOCKETS[@]}" >&2; exit 1; }
SOCKET=${SOCKETS[0]}
CONTAINER_PID=$(cat "$(dirname "$SOCKET")/pid")
BRIDGE_PID=$(pgrep -o -f "UNIX-LISTEN:$SOCKET,")   # the listener; its children serve one connection each

# What the audit log's group commit waits for: an appended line made durable, on the data directory's disk.
fsync_probe() {
  python3 - "$CITADEL_DATA" <<'EOF'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
took = []
for _ in range(300):
    os.write(fd, b"x" * 800 + b"\n")
    t = time.perf_counter()
    os.fdatasync(fd)
    took.append(time.perf_counter() - t)
os.close(fd)
os.unlink(path)
took.sort()
print("fdatasync of an appended 800-byte line on the data directory's disk: p50 %.2f ms, p99 %.2f ms" % (took[150] * 1e3, took[296] * 1e3))
EOF
}

bench() { # connections
  echo
  echo "### Concurrency $1"
  echo
  echo "load before: $(uptime | sed 's/.*load average/load average/')"
  fsync_probe
  "$ROOT/citadel" bench --operation invoke-endpoint --server-data-dir "$CITADEL_DATA" --endpoint-name bench --socket "$SOCKET" \
    --connections "$1" --rounds "$ROUNDS" --warmup "$WARMUP" --duration "$SECONDS_MEASURED" \
    --cpu-of "Citadel server=$CITADEL_PID" --cpu-of "serving container (Python)=$CONTAINER_PID" --cpu-tree-of "bridge (socat)=$BRIDGE_PID"
  echo "load after:  $(uptime | sed 's/.*load average/load average/')"
}
echo "Serving container: examples/sklearn-image/serve (scikit-learn logistic regression) on $(basename "$(dirname "$BASE")"); $(nproc) cores"
(( ${#SERVER_SETTINGS[@]} == 0 )) || echo "Server settings: ${SERVER_SETTINGS[*]}"
echo "Direct path: $SOCKET"
bench 16
bench 1

python3 -c '
import time, boto3, botocore.exceptions
sm = boto3.client("sagemaker")
sm.delete_endpoint(EndpointName="bench")
for _ in range(120):
    try:
        sm.describe_endpoint(EndpointName="bench")
    except botocore.exceptions.ClientError:
        break
    time.sleep(0.5)'
