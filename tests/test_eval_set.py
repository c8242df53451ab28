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
