"""`policyqa ask` end to end with the real packaged models (USE, MiniLM, Kiwi) and a real PDF.

The index is built once per module with `policyqa ingest`; every command runs in-process through
`policyqa.app.cli.main`, with POLICYQA_HOME and POLICYQA_CORPUS set in the environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policyqa.app.cli import main

from .conftest import make_pdf

pytestmark = pytest.mark.integration

QUESTION_KO = "포괄보조는 2026년에 얼마로 늘어나나요?"
QUESTION_EN = "When did Gangwon become a Special Self-Governing Province?"
UNANSWERABLE = "국민연금 보험료율은 몇 퍼센트인가요?"
REQUIRED = {"answer", "answered", "citations", "language"}
CITATION_KEYS = {"n", "doc", "title", "page", "page_label", "section", "quote"}

GANGWON_EN = """# Regional sheet: Gangwon

## 1. Status
Gangwon became a Special Self-Governing Province on 11 June 2023.

## 2. Transport
Residents benefit from the nationwide 60-minute mega-region transport system.
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("cli-ask")
    corpus = root / "corpus"
    corpus.mkdir()
    make_pdf(
        corpus / "budget-ko.pdf",
        [
            "1. 재정 기반\n포괄보조는 2025년 3.8조원에서 2026년 10.6조원으로 늘어난다.\n"
            "지역균형발전특별회계 안에 초광역특별계정을 신설한다.",
            "2. 교통\n광역 60분 생활권을 위해 광역철도와 BRT를 전국으로 확대한다.\n"
            "K-패스를 전국으로 넓혀 월 최대 20만원까지 교통비를 지원한다.",
        ],
        title="추진기반 과제표",
        labels_start=3,  # printed page labels iii, iv
    )
    (corpus / "region-gangwon-en.md").write_text(GANGWON_EN, encoding="utf-8")
    env = {"POLICYQA_HOME": str(root / "home"), "POLICYQA_CORPUS": str(corpus)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        assert main(["ingest", "--no-progress"]) == 0
    yield env


@pytest.fixture(autouse=True)
def _env(index: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in index.items():
        monkeypatch.setenv(key, value)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


def ask_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, "ask", *args, "--json")
    return code, json.loads(out)


def test_ask_json_for_an_answerable_question(capsys: pytest.CaptureFixture[str]) -> None:
    code, body = ask_json(capsys, QUESTION_KO)
    assert code == 0
    assert set(body) >= REQUIRED
    assert body["answered"] is True and body["language"] == "ko"
    assert "10.6" in body["answer"] and "[1]" in body["answer"]
    assert body["citations"]
    first = body["citations"][0]
    assert set(first) >= CITATION_KEYS
    assert first["doc"] == "budget-ko.pdf"
    assert (first["page"], first["page_label"]) == (1, "iii")
    assert first["title"] == "추진기반 과제표"
    assert "10.6조원" in first["quote"]


def test_ask_plain_output_has_markers_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    for question, heading in ((QUESTION_EN, "Sources:"), (QUESTION_KO, "출처:")):
        code, body = ask_json(capsys, question)
        assert code == 0 and body["answered"], body
        code, out, _ = run(capsys, "ask", question)
        assert code == 0
        answer, _, sources = out.partition(f"\n{heading}\n")
        assert "[1]" in answer.splitlines()[0]
        assert sources, out
        for c in body["citations"]:
            assert re.search(rf"^\[{c['n']}\] .*\({re.escape(c['doc'])}\), p\. ", sources, re.M)
            assert f"p. {c['page_label']}" in sources
            assert " ".join(c["quote"].split()) in sources
    assert "p. 1" in run(capsys, "ask", QUESTION_EN)[1]
    assert "p. iii" in run(capsys, "ask", QUESTION_KO)[1]


def test_ask_briefing_prints_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", QUESTION_KO, "--briefing")
    assert code == 0
    assert out.startswith("# ")
    assert "10.6" in out and "(/files/budget-ko.pdf#page=" in out and "| [iii](" in out


def test_ask_with_a_filter(capsys: pytest.CaptureFixture[str]) -> None:
    code, body = ask_json(capsys, QUESTION_EN, "--filter", "doc_id=region-gangwon-en.md")
    assert code == 0
    assert body["citations"] and {c["doc"] for c in body["citations"]} == {"region-gangwon-en.md"}


def test_ask_with_history(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps(
            [
                {"role": "user", "content": QUESTION_KO},
                {"role": "assistant", "content": "2026년 10.6조원으로 늘어난다. [1]"},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    code, body = ask_json(capsys, "그럼 2025년에는?", "--history", str(history))
    assert code == 0
    assert body["question"] == "그럼 2025년에는?"
    assert "포괄보조" in body["standalone_question"]
    assert body["answered"] and "3.8" in body["answer"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read history"),
        ('{"role": "user", "content": "x"}', "history must be a list"),
        ('["just a string"]', "history must be a list"),
        ('[{"role": "user", "content": 5}]', "history must be a list"),
        (None, "cannot read history"),  # no such file
    ],
    ids=["invalid-json", "object", "string-items", "number-content", "missing-file"],
)
def test_malformed_history_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str
) -> None:
    history = tmp_path / "history.json"
    if content is not None:
        history.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "ask", QUESTION_KO, "--history", str(history))
    assert code == 2
    assert err.startswith("policyqa: error:") and message in err
    assert out == ""


def test_unanswerable_question_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, body = ask_json(capsys, UNANSWERABLE)
    assert code == 1
    assert body["answered"] is False and body["citations"] == []
    assert body["refusal"] == "not-found"
    code, out, err = run(capsys, "ask", UNANSWERABLE)
    assert code == 1 and out.strip() and err == ""
    assert "[1]" not in out


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   \t ", "empty"), ("\x00\x07", "empty"), ("가" * 3000, "너무 깁니다")],
    ids=["empty", "whitespace", "control", "too-long"],
)
def test_question_that_cannot_be_asked_exits_2(
    capsys: pytest.CaptureFixture[str], question: str, message: str
) -> None:
    code, out, err = run(capsys, "ask", question, "--json")
    assert code == 2
    assert out == ""
    assert err.startswith("policyqa: error:") and message in err


def test_missing_question_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["ask"])
    assert exc.value.code == 2
    assert "question" in capsys.readouterr().err


def test_citation_names_the_section_of_its_quote(capsys: pytest.CaptureFixture[str]) -> None:
    code, body = ask_json(capsys, QUESTION_EN)
    assert code == 0
    cited = [c for c in body["citations"] if "11 June 2023" in c["quote"]]
    assert cited, body
    assert cited[0]["section"].endswith("1. Status"), cited[0]["section"]
