"""S3 PUT and GET throughput of one large object (1 GiB by default) with boto3, against Citadel and
against moto 5.2.1 on the same machine, next to the AES-GCM limit of that machine
(`openssl speed -evp aes-256-gcm`), as recorded in docs/BENCHMARKS.md.

One command from the project root (starts Citadel with ./citadel server on a temporary data
directory, and moto, and stops both):
    python3 citadel-bench/scripts/s3_throughput.py

Two ways to move the object, each timed separately:
  multipart  boto3's managed transfer (upload_file/download_file): 8 MiB parts, 4 threads, as the
             AWS CLI and most applications do it;
  single     one PutObject of the whole file and one GetObject streamed to a file.
Every run checks that the object came back byte-identical (SHA-256, outside the timed part).
With AWS_ENDPOINT_URL set (e.g. after `. <data-dir>/client/env`), the Citadel already running
there is measured instead of a new one. With BENCH_RESULTS naming a file, the best figures and the
limit are also appended to it as JSON lines (scripts/bench-all.sh).
"""
import argparse
import configparser
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUCKET = "throughput"
MULTIPART = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=4)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, what, seconds, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = open(log).read()[-4000:] if log else ""
            sys.exit("%s exited with status %d\n%s" % (what, process.returncode, tail))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit("%s did not listen on port %d within %d s" % (what, port, seconds))


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def aes_gcm_limit_mbs():
    """One core's AES-256-GCM in MB/s (10^6 B/s), 16 KiB buffers, as openssl speed reports it."""
    out = subprocess.run(["openssl", "speed", "-evp", "aes-256-gcm", "-seconds", "3", "-bytes", "16384"],
                         capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.lower().startswith("aes-256-gcm")][-1]
    return float(re.findall(r"([\d.]+)k", line)[-1]) * 1000 / 1e6


def citadel_client(env):
    creds = configparser.ConfigParser()
    creds.read(env["AWS_SHARED_CREDENTIALS_FILE"])
    profile = creds[env.get("AWS_PROFILE", "default")]
    return boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
                        verify=env["AWS_CA_BUNDLE"], aws_access_key_id=profile["aws_access_key_id"],
                        aws_secret_access_key=profile["aws_secret_access_key"],
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def read_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"export (\w+)='?([^']*)'?$", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
    return env


def start_citadel(data_dir):
    port = free_port()
    log = data_dir + ".log"
    with open(log, "w") as out:
        process = subprocess.Popen([os.path.join(ROOT, "citadel"), "server", "--data-dir", data_dir, "--listen", "127.0.0.1:%d" % port,
                                    "--set", "operator.listen=127.0.0.1:0"],
                                   stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    # ./citadel builds first when its jar is older than the sources.
    wait_for_port(port, process, "./citadel server", 600, log)
    env_file = os.path.join(data_dir, "client", "env")
    deadline = time.monotonic() + 60
    while not os.path.exists(env_file) and time.monotonic() < deadline:
        time.sleep(0.2)
    return process, read_env_file(env_file)


def start_moto():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process, "moto server (python3 -m moto.server; moto 5.2.1 expected)", 60)
    client = boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    return process, client


def measure(s3, mode, path, size, digest):
    """Returns (PUT MB/s, GET MB/s) for one round trip, after checking the object came back intact."""
    back = path + ".back"
    t = time.monotonic()
    if mode == "multipart":
        s3.upload_file(path, BUCKET, "object", Config=MULTIPART)
    else:
        with open(path, "rb") as f:
            s3.put_object(Bucket=BUCKET, Key="object", Body=f, ContentLength=size)
    put = time.monotonic() - t
    t = time.monotonic()
    if mode == "multipart":
        s3.download_file(BUCKET, "object", back, Config=MULTIPART)
    else:
        body = s3.get_object(Bucket=BUCKET, Key="object")["Body"]
        with open(back, "wb") as f:
            shutil.copyfileobj(body, f, 1 << 20)
    get = time.monotonic() - t
    intact = os.path.getsize(back) == size and sha256_of(back) == digest
    os.remove(back)
    s3.delete_object(Bucket=BUCKET, Key="object")
    if not intact:
        sys.exit("the object did not come back byte-identical (%s)" % mode)
    return size / put / 1e6, size / get / 1e6


def run_target(name, s3, modes, runs, path, size, digest, best):
    s3.create_bucket(Bucket=BUCKET)
    for mode in modes:
        for run in range(1, runs + 1):
            put, get = measure(s3, mode, path, size, digest)
            print("| %s | %s | %d | %.0f | %.0f |" % (name, mode, run, put, get), flush=True)
            b = best.setdefault((name, mode), [0.0, 0.0])
            b[0], b[1] = max(b[0], put), max(b[1], get)


def main():
    # Stopping the script (kill, Ctrl-C) still stops the servers it started and removes its files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    p = argparse.ArgumentParser(description="S3 PUT/GET MB/s of one large object: Citadel, moto 5.2.1, AES-GCM limit.")
    p.add_argument("--size-mib", type=int, default=1024)
    p.add_argument("--runs", type=int, default=2, help="round trips per target and mode; the best is summarized")
    p.add_argument("--modes", default="single,multipart", help="comma-separated: single, multipart")
    p.add_argument("--targets", default="citadel,moto", help="comma-separated: citadel, moto")
    args = p.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    targets = [t for t in args.targets.split(",") if t]
    size = args.size_mib << 20

    work = tempfile.mkdtemp(prefix="citadel-s3-throughput-")
    path = os.path.join(work, "object")
    with open(path, "wb") as f:
        for _ in range(args.size_mib):
            f.write(os.urandom(1 << 20))
    digest = sha256_of(path)
    processes = []
    best = {}
    try:
        limit = aes_gcm_limit_mbs()
        print("%d MiB object, %d cores; openssl speed -evp aes-256-gcm (16 KiB, one core): %.0f MB/s" % (
            args.size_mib, os.cpu_count(), limit))
        print()
        print("| target | mode | run | PUT MB/s | GET MB/s |")
        print("|---|---|---:|---:|---:|")
        if "citadel" in targets:
            if os.environ.get("AWS_ENDPOINT_URL"):
                env = dict(os.environ)
            else:
                process, env = start_citadel(os.path.join(work, "citadel-data"))
                processes.append(process)
            run_target("Citadel", citadel_client(env), modes, args.runs, path, size, digest, best)
        if "moto" in targets:
            process, client = start_moto()
            processes.append(process)
            run_target("moto 5.2.1", client, modes, args.runs, path, size, digest, best)
        print()
        print("Best of %d runs | PUT MB/s | GET MB/s | PUT / AES-GCM limit | GET / AES-GCM limit |" % args.runs)
        print("|---|---:|---:|---:|---:|")
        for (name, mode), (put, get) in best.items():
            print("| %s, %s | %.0f | %.0f | %.1f %% | %.1f %% |" % (name, mode, put, get, 100 * put / limit, 100 * get / limit))
        results = os.environ.get("BENCH_RESULTS")
        if results:
            with open(results, "a") as out:
                out.write(json.dumps({"bench": "s3-1gib", "target": "aes-gcm-limit", "mb_per_s": round(limit, 1)}) + "\n")
                for (name, mode), (put, get) in best.items():
                    target = "citadel" if name == "Citadel" else "moto"
                    out.write(json.dumps({"bench": "s3-1gib-" + mode, "target": target, "put_mb_per_s": round(put, 1),
                                          "get_mb_per_s": round(get, 1), "size_mib": args.size_mib}) + "\n")
        for mode in modes:
            if ("Citadel", mode) in best and ("moto 5.2.1", mode) in best:
                c, m = best[("Citadel", mode)], best[("moto 5.2.1", mode)]
                print("Citadel / moto, %s: PUT %.2fx, GET %.2fx" % (mode, c[0] / m[0], c[1] / m[1]))
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
