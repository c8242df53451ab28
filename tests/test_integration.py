"""End to end with the real packaged models (USE, MiniLM, Kiwi), real PDFs and a real Chroma
server started on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyqa.app.cli import main
from policyqa.index.embed import EmbedderSpec, load_embeddings

from .conftest import free_port, make_pdf

pytestmark = pytest.mark.integration

GANGWON_EN = """# Regional sheet: Gangwon

## 1. Status
Gangwon became a Special Self-Governing Province on 11 June 2023.

## 2. Transport
Residents benefit from the nationwide 60-minute mega-region transport system.
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    make_pdf(
        root / "budget-ko.pdf",
        [
            "1. 재정 기반\n포괄보조는 2025년 3.8조원에서 2026년 10.6조원으로 늘어난다.\n"
            "지역균형발전특별회계 안에 초광역특별계정을 신설한다.",
            "2. 교통\n광역 60분 생활권을 위해 광역철도와 BRT를 전국으로 확대한다.\n"
            "K-패스를 전국으로 넓혀 월 최대 20만원까지 교통비를 지원한다.",
        ],
        title="추진기반 과제표",
    )
    (root / "region-gangwon-en.md").write_text(GANGWON_EN, encoding="utf-8")
    (root / "README.md").write_text("# Corpus readme, not indexed", encoding="utf-8")
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def test_real_models_end_to_end(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    out = run_cli(capsys, "--home", home, "ingest", str(corpus), "--no-progress")
    assert "2 files, 3 pages" in out and "0 rejected" in out
    again = run_cli(capsys, "--home", home, "ingest", str(corpus), "--no-progress")
    assert "0 embedded" in again and "nothing changed" in again

    rows = json.loads(
        run_cli(
            capsys,
            "--home",
            home,
            "retrieve",
            "포괄보조는 얼마로 늘어나나요?",
            "--json",
            "--k",
            "3",
        )
    )
    assert rows[0]["doc"] == "budget-ko.pdf" and rows[0]["page"] == 1
    assert set(rows[0]) == {
        "rank",
        "chunk_id",
        "doc",
        "title",
        "page",
        "page_label",
        "section",
        "score",
        "text",
    }
    assert rows[0]["title"] == "추진기반 과제표" and rows[0]["section"].startswith("1. 재정 기반")

    # Korean question, answer only in an English document: the multilingual embedder finds it.
    rows = json.loads(
        run_cli(
            capsys, "--home", home, "retrieve", "강원도는 언제 특별자치도가 되었나요?", "--json"
        )
    )
    assert "region-gangwon-en.md" in [r["doc"] for r in rows[:2]]
    # English question, answer only in a Korean PDF.
    rows = json.loads(
        run_cli(
            capsys,
            "--home",
            home,
            "retrieve",
            "monthly transport cost support under K-Pass",
            "--json",
        )
    )
    pages = [(r["doc"], r["page"]) for r in rows]
    assert ("budget-ko.pdf", 2) in pages[:2]
    assert ("budget-ko.pdf", 1) not in pages[:2]

    rows = json.loads(
        run_cli(
            capsys, "--home", home, "retrieve", "transport", "--json", "--filter", "language=en"
        )
    )
    assert rows and {r["doc"] for r in rows} == {"region-gangwon-en.md"}

    stats = run_cli(capsys, "--home", home, "stats")
    assert "documents: 2" in stats and "use-multilingual" in stats
    assert "deleted" in run_cli(capsys, "--home", home, "reset", "--yes")
    assert "documents: 0" in run_cli(capsys, "--home", home, "stats")


def test_minilm_is_loaded_from_its_package() -> None:
    emb = load_embeddings(EmbedderSpec("sentence-transformers:all-MiniLM-L6-v2"))
    a, b, c = emb.embed_documents(
        ["block grants grow", "grants for blocks increase", "Jeju island tourism"]
    )
    assert len(a) == 384
    dot = lambda x, y: sum(i * j for i, j in zip(x, y, strict=True))  # noqa: E731
    assert dot(a, b) > dot(a, c)


def test_embedder_mismatch_is_a_clear_cli_error(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    run_cli(
        capsys,
        "--home",
        home,
        "--embedder",
        "use-multilingual",
        "ingest",
        str(corpus),
        "--no-progress",
    )
    code = main(["--home", home, "retrieve", "x"])
    err = capsys.readouterr().err
    assert code == 2 and "policyqa reset" in err


def test_eval_retrieval_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pages = tmp_path / "pages.jsonl"
    questions = tmp_path / "questions.jsonl"
    rows = [
        {
            "doc": "a.pdf",
            "page": 1,
            "text": "지방은행이 시중은행으로 전환하려면 금융위원회의 인가가 필요하다.",
        },
        {"doc": "a.pdf", "page": 2, "text": "한국은행은 기준금리를 연 3.50%에서 유지하였다."},
        {
            "doc": "b.pdf",
            "page": 1,
            "text": "이커머스 시장에서 쿠팡은 상장 이후 물류 투자를 늘렸다.",
        },
    ]
    pages.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    qs = [
        {
            "id": "1",
            "question": "기준금리는 얼마로 유지됐나요?",
            "sources": [{"doc": "a.pdf", "page": 2}],
        },
        {
            "id": "2",
            "question": "쿠팡은 상장 후 무엇에 투자했나?",
            "sources": [{"doc": "b.pdf", "page": 1}],
        },
    ]
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in qs), encoding="utf-8")
    out = json.loads(
        run_cli(
            capsys, "eval-retrieval", "--pages", str(pages), "--questions", str(questions), "--json"
        )
    )
    assert out["hit@1"] == 1.0 and out["questions"] == 2 and len(out["per_question"]) == 2


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("chroma") or str(Path(os.__file__).parents[0])
    venv_exe = Path(__import__("sys").executable).parent / "chroma"
    exe = str(venv_exe) if venv_exe.exists() else exe
    port = free_port()
    proc = subprocess.Popen(
        [
            exe,
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # not time.time(): the clock may be set meanwhile
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("chroma server did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_chroma_server_gives_the_same_results(
    corpus: Path, tmp_path: Path, chroma_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    embedded = ["--home", str(tmp_path / "embedded")]
    server = ["--home", str(tmp_path / "client"), "--chroma-url", chroma_server]
    for opts in (embedded, server):
        run_cli(capsys, *opts, "ingest", str(corpus), "--no-progress")
    for question in ("광역철도 확대", "When did Gangwon become special?", "포괄보조 10.6조원"):
        a = json.loads(run_cli(capsys, *embedded, "retrieve", question, "--json"))
        b = json.loads(run_cli(capsys, *server, "retrieve", question, "--json"))
        assert [r["chunk_id"] for r in a] == [r["chunk_id"] for r in b]
    assert "documents: 2" in run_cli(capsys, *server, "stats")
