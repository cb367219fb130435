#!/usr/bin/env bash
# How long a training job takes to get its container running, and what a job that exits at once
# costs in all, against a bare `runc run` of the same image's bundle.
#   scripts/job-latency.sh [JOBS]          (default 30)
# Starts its own Citadel (./citadel server, embedded defaults, a temporary data directory, a free
# loopback port), pushes the tiny test image (scripts/test-images.sh), and runs JOBS training jobs
# one after another whose container prints one line and exits. For each:
#   start  = the job's first log event (stamped when Citadel reads the container's first line)
#            minus the moment the client sent CreateTrainingJob;
#   total  = TrainingEndTime (Completed, model uploaded) minus the same moment.
# The bare figure is `runc run` of the same bundle, from exec to its first line: the config.json
# Citadel wrote for a job (namespaces, seccomp, limits, mounts; copied while that job runs, its
# volume and mounts pointed at empty directories) with the same cached image root.
# Prints a Markdown table for docs/BENCHMARKS.md (and, with BENCH_RESULTS naming a file, appends the
# start figures to it as JSON lines for scripts/bench-all.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=${1:-30}
for tool in skopeo python3 runc umoci; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (./citadel test installs it)" >&2; exit 2; }
done
LAYOUT=$("$ROOT/scripts/test-images.sh" tiny | awk '$1 == "tiny" {print $2}')

WORK=$(mktemp -d /var/tmp/citadel-job-bench.XXXXXX)
chmod 711 "$WORK"   # containers reach their root file system through the data directory's parents
. "$ROOT/scripts/lib-server.sh"
cleanup() {
  citadel_stop
  runc --root "$WORK/bare-state" delete --force bare-bench >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

citadel_start "$WORK"
PORT=$CITADEL_PORT
citadel_push "oci:$LAYOUT:latest" tiny v1 >/dev/null

python3 - "$JOBS" "$PORT" "$WORK" <<'EOF'
import json, os, statistics, subprocess, sys, time
import boto3

jobs, port, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
account = boto3.client("sts").get_caller_identity()["Account"]
iam = boto3.client("iam")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
iam.create_role(RoleName="Bench", AssumeRolePolicyDocument=json.dumps(trust))
iam.put_role_policy(RoleName="Bench", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "ecr:BatchGetImage"], "Resource": "*"}]}))
boto3.client("s3").create_bucket(Bucket="bench-" + account)
time.sleep(10)  # IAM's caches are per second; let the role settle before the first job
sm, logs = boto3.client("sagemaker"), boto3.client("logs")

def job(i):
    name = "bench-%03d" % i
    sent = time.time()
    sm.create_training_job(TrainingJobName=name, RoleArn="arn:aws:iam::%s:role/Bench" % account,
        AlgorithmSpecification={"TrainingImage": "localhost:%s/tiny:v1" % port, "TrainingInputMode": "File",
                                "ContainerEntrypoint": ["/bin/echo"], "ContainerArguments": ["started"]},
        OutputDataConfig={"S3OutputPath": "s3://bench-%s/out" % account},
        ResourceConfig={"InstanceType": "ml.t3.medium", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60})
    while True:
        d = sm.describe_training_job(TrainingJobName=name)
        if d["TrainingJobStatus"] not in ("InProgress", "Stopping"):
            break
        time.sleep(0.02)
    assert d["TrainingJobStatus"] == "Completed", d
    stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=name + "/")["logStreams"][0]["logStreamName"]
    first = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream, startFromHead=True)["events"][0]
    return (first["timestamp"] / 1000 - sent) * 1000, (d["TrainingEndTime"].timestamp() - sent) * 1000

def bare(i):
    start = time.monotonic()
    p = subprocess.Popen(["runc", "--root", work + "/bare-state", "run", "--bundle", bundle, "bare-bench"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    line = p.stdout.readline()
    first = (time.monotonic() - start) * 1000
    p.wait()
    assert line.strip() == b"started", line
    return first, (time.monotonic() - start) * 1000

def same_bundle():
    """Runs a job that sleeps, copies the bundle Citadel made for it, and points its mounts at empty directories."""
    import glob, os, shutil, threading
    done = threading.Event()
    def sleeper():
        sm.create_training_job(TrainingJobName="bench-bundle", RoleArn="arn:aws:iam::%s:role/Bench" % account,
            AlgorithmSpecification={"TrainingImage": "localhost:%s/tiny:v1" % port, "TrainingInputMode": "File",
                                    "ContainerEntrypoint": ["/bin/sh", "-c"], "ContainerArguments": ["sleep 3"]},
            OutputDataConfig={"S3OutputPath": "s3://bench-%s/out" % account},
            ResourceConfig={"InstanceType": "ml.t3.medium", "InstanceCount": 1, "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 60})
        done.set()
    before = set(glob.glob(work + "/data/sandbox/runs/*"))
    threading.Thread(target=sleeper).start()
    done.wait(60)
    deadline = time.time() + 60
    found = []
    while time.time() < deadline and not found:
        found = [f for f in glob.glob(work + "/data/sandbox/runs/*/bundle/config.json") if os.path.dirname(os.path.dirname(f)) not in before]
        time.sleep(0.05)
    config = json.load(open(found[0]))
    bare = work + "/bare"
    os.makedirs(bare + "/mounts", exist_ok=True)
    run_dir = os.path.dirname(os.path.dirname(found[0]))
    for i, m in enumerate(config.get("mounts", [])):
        if m.get("source", "").startswith(run_dir):
            m["source"] = bare + "/mounts/%d" % i
            os.makedirs(m["source"], exist_ok=True)
            os.chown(m["source"], 200000, 200000)
    config["process"]["args"] = ["/bin/echo", "started"]
    json.dump(config, open(bare + "/config.json", "w"))
    os.chmod(bare, 0o711)
    while sm.describe_training_job(TrainingJobName="bench-bundle")["TrainingJobStatus"] == "InProgress":
        time.sleep(0.2)
    return bare

job(0)  # warm: the image root is unpacked and cached here
bundle = same_bundle()
bare(0)
starts, totals, bstarts, btotals = [], [], [], []
for i in range(1, jobs + 1):
    s, t = job(i)
    starts.append(s); totals.append(t)
    b, bt = bare(i)
    bstarts.append(b); btotals.append(bt)

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]

print("| %d jobs, one after another | p50 ms | p99 ms |" % jobs)
print("|---|---:|---:|")
print("| CreateTrainingJob → container's first line | %.0f | %.0f |" % (pct(starts, .5), pct(starts, .99)))
print("| bare `runc run` → first line | %.0f | %.0f |" % (pct(bstarts, .5), pct(bstarts, .99)))
print("| ratio (target ≤ 2×) | %.1f× | %.1f× |" % (pct(starts, .5) / pct(bstarts, .5), pct(starts, .99) / pct(bstarts, .99)))
print("| CreateTrainingJob → Completed (job exits at once) | %.0f | %.0f |" % (pct(totals, .5), pct(totals, .99)))
print("| bare `runc run` → exited | %.0f | %.0f |" % (pct(btotals, .5), pct(btotals, .99)))
if os.environ.get("BENCH_RESULTS"):
    with open(os.environ["BENCH_RESULTS"], "a") as out:
        for target, xs in (("citadel", starts), ("bare-runc", bstarts)):
            out.write(json.dumps({"bench": "training-job-start", "target": target, "jobs": jobs,
                                  "p50_ms": round(pct(xs, .5), 1), "p99_ms": round(pct(xs, .99), 1)}) + "\n")
EOF
