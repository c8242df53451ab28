"""The curated evaluation set stays consistent with the corpus (sources, pages, key facts)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_eval_set_matches_corpus() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "check_questions.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: all checks passed" in result.stdout


# eval/questions.jsonl is frozen: `policyqa eval` records this hash in report.json. A change of
# gold answers is a commit of its own that gives its reason and updates this hash, never part of
# the commit of the code it makes pass.
QUESTIONS_SHA256 = "065c4581079b8c715473bd83c087002bc425b1c58e52bb5cfc1ba3fe1c701860"


def test_eval_set_is_frozen() -> None:
    import hashlib

    digest = hashlib.sha256((ROOT / "eval" / "questions.jsonl").read_bytes()).hexdigest()
    assert digest == QUESTIONS_SHA256, (
        "eval/questions.jsonl changed: commit it on its own with the reason, and this hash"
    )
