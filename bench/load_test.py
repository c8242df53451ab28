"""Load test of the running app: N clients POST questions to /api/ask at once.

Usage: python bench/load_test.py [--url http://127.0.0.1:7860] [--clients 8] [--questions 200]
Start the app first (`make run`, or `python app.py` after `policyqa ingest`). Questions come from
eval/questions.jsonl (Korean and English, with follow-up history), cycled. Prints errors and
latency percentiles; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--eval", type=Path, default=Path("eval/questions.jsonl"))
    args = parser.parse_args()

    rows = [json.loads(line) for line in args.eval.read_text(encoding="utf-8").splitlines() if line]
    work = [rows[i % len(rows)] for i in range(args.questions)]
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    answered = 0

    def client(index: int) -> None:
        nonlocal answered
        for row in work[index :: args.clients]:
            body = json.dumps({"question": row["question"], "history": row.get("history", [])})
            request = urllib.request.Request(
                args.url.rstrip("/") + "/api/ask",
                data=body.encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    payload = json.load(response)
                ok = {"answer", "answered", "citations", "language"} <= set(payload)
            except (urllib.error.URLError, TimeoutError, ValueError) as exc:
                ok, payload = False, {"error": str(exc)}
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(f"{row['id']}: {payload.get('error', payload)}")
                elif payload["answered"]:
                    answered += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    print(
        f"{len(latencies)} requests from {args.clients} clients in {wall:.1f} s "
        f"({len(latencies) / wall:.1f} req/s); errors: {len(errors)}; answered: {answered}"
    )
    print(
        f"latency ms: p50 {statistics.median(ordered):.0f}, p95 {pct(95):.0f}, "
        f"max {ordered[-1]:.0f}"
    )
    for line in errors[:10]:
        print("  error:", line)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
