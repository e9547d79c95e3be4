"""HTTP and compose helpers for scripts/compose-test.sh: talks to the stack as a user would,
through the published port. Standard library only.

    client.py wait-healthy PROJECT_DIR WORKERS TIMEOUT   every service healthy, ollama-pull exited 0
    client.py run BASE KIND_SPEC...                      submit jobs, wait, print id status attempts
    client.py p50 BASE N                                 submit->succeeded of N journal reviews
    client.py final BASE TIMEOUT ID...                   wait until final; print id status attempts
    client.py list BASE                                  the ids of every job (all pages)

Every request carries the API key in the file TRADEFORGE_API_KEY_FILE (docker-up.sh's
./secrets/admin-api-key), read afresh each time: a stack started over makes a new one.
"""

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request


def request(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    key_file = os.environ.get("TRADEFORGE_API_KEY_FILE")
    if key_file:
        with open(key_file) as f:
            req.add_header("authorization", "Bearer " + f.read().strip())
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def submit(base, body):
    status, job = request("POST", f"{base}/jobs", body)
    if status != 202:
        sys.exit(f"POST /jobs answered {status}: {job}")
    return job["id"]


def wait_final(base, ids, timeout, every=0.05):
    deadline = time.monotonic() + timeout
    done = {}
    while len(done) < len(ids):
        for i in ids:
            if i in done:
                continue
            status, job = request("GET", f"{base}/jobs/{i}")
            if status == 200 and job["status"] in ("succeeded", "failed", "cancelled"):
                done[i] = job
        if time.monotonic() > deadline:
            missing = [i for i in ids if i not in done]
            sys.exit(f"not final after {timeout}s: {missing}")
        time.sleep(every)
    return [done[i] for i in ids]


BODIES = {
    "journal": {"kind": "analysis", "input": {"task": "journal", "text": "Bought gold on the breakout, moved my stop twice and closed at a loss.", "context": "compose test"}},
    "market": {"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2012-06-01"}},
    # ~1 s of training on 2 cores; slow-N trains N times longer (a job to kill a worker in).
    "training": {"kind": "training", "input": {"symbol": "GOOG", "model": "nhits", "horizon": 5, "input_size": 20, "max_steps": 40, "mlp_width": 32, "windows_batch_size": 64, "seed": 1}},
}


def body_for(spec):
    if spec.startswith("slow-"):
        body = json.loads(json.dumps(BODIES["training"]))
        body["input"]["max_steps"] = 40 * int(spec[5:])
        body["input"]["mlp_width"] = 128
        return body
    return BODIES[spec]


def wait_healthy(project_dir, workers, timeout):
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(
            ["docker", "compose", "-f", "docker-compose.yml", "ps", "-a", "--format", "json"],
            cwd=project_dir, capture_output=True, text=True, check=True).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        if out.strip().startswith("["):
            rows = json.loads(out)
        state = {}
        for r in rows:
            state.setdefault(r["Service"], []).append((r["State"], r.get("Health", ""), r.get("ExitCode", 0)))
        problems = []
        for service in ("postgres", "redis", "ollama", "api"):
            if state.get(service) != [("running", "healthy", 0)]:
                problems.append(f"{service}: {state.get(service)}")
        if state.get("ollama-pull") != [("exited", "", 0)]:
            problems.append(f"ollama-pull: {state.get('ollama-pull')}")
        healthy_workers = [s for s in state.get("worker", []) if s[:2] == ("running", "healthy")]
        if len(state.get("worker", [])) != workers or len(healthy_workers) != workers:
            problems.append(f"worker: {state.get('worker')} (want {workers} healthy)")
        if not problems:
            print(f"all healthy: {', '.join(sorted(state))}; {workers} workers")
            return
        if time.monotonic() > deadline:
            sys.exit("not healthy: " + "; ".join(problems))
        time.sleep(1)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "wait-healthy":
        wait_healthy(args[0], int(args[1]), float(args[2]))
    elif command == "run":
        base, specs = args[0], args[1:]
        ids = [submit(base, body_for(s)) for s in specs]
        for i in ids:
            print(i)
    elif command == "final":
        base, timeout, ids = args[0], float(args[1]), args[2:]
        for job in wait_final(base, ids, timeout):
            print(job["id"], job["status"], job["attempts"], (job.get("error") or "")[:200])
    elif command == "p50":
        base, n = args[0], int(args[1])
        took = []
        for _ in range(n):
            started = time.monotonic()
            job_id = submit(base, BODIES["journal"])
            job = wait_final(base, [job_id], 60, every=0.002)[0]
            if job["status"] != "succeeded":
                sys.exit(f"journal review {job_id}: {job}")
            took.append((time.monotonic() - started) * 1000)
        print(f"{statistics.median(took):.1f} ms p50, {max(took):.1f} ms max over {n}")
    elif command == "list":
        base, cursor, ids = args[0], None, []
        while True:
            url = f"{base}/jobs?limit=100" + (f"&cursor={cursor}" if cursor else "")
            status, page = request("GET", url)
            if status != 200:
                sys.exit(f"GET /jobs answered {status}: {page}")
            ids += [j["id"] for j in page["jobs"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        print("\n".join(ids))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
