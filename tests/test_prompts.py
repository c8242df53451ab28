"""Prompt files: every section renders, missing variables and names fail loudly."""

from pathlib import Path

import pytest

from policyqa.answering import prompts
from policyqa.answering.prompts import (
    PromptError,
    message,
    placeholders,
    prompt_names,
    render,
    sections,
)
from policyqa.core.language import is_korean


def test_all_expected_prompt_files_exist() -> None:
    assert {"answer", "briefing", "condense", "refusal"} <= set(prompt_names())


def test_every_section_of_every_prompt_renders_without_leftover_placeholders() -> None:
    rendered = 0
    for name in prompt_names():
        for section, template in sections(name).items():
            values = {field: f"<{field}>" for field in placeholders(template)}
            text = render(name, section, **values)
            assert "{" not in text, (name, section)
            assert "}" not in text, (name, section)
            for value in values.values():
                assert value in text, (name, section, value)
            assert text.strip(), (name, section)
            rendered += 1
    assert rendered >= 10


def test_render_raises_on_missing_variable() -> None:
    with pytest.raises(PromptError, match="question"):
        render("answer", "user", passages="[1] ...")


def test_render_raises_on_unknown_section() -> None:
    with pytest.raises(PromptError, match="no-such-section"):
        render("answer", "no-such-section")


def test_render_raises_on_unknown_prompt() -> None:
    with pytest.raises(PromptError, match="no-such-prompt"):
        render("no-such-prompt", "system")


def test_message_is_korean_for_ko_and_english_for_en() -> None:
    ko = message("not-found", "ko", documents="문서 3건 전체", question="예산은?")
    en = message("not-found", "en", documents="all 3 documents", question="Budget?")
    assert is_korean(ko)
    assert "3" in ko and "예산은?" in ko
    assert not is_korean(en)
    assert "3 documents" in en and "Budget?" in en


def test_message_falls_back_to_english_for_other_languages() -> None:
    assert message("no-answer", "mixed") == message("no-answer", "en")
    assert message("no-answer", "ko") != message("no-answer", "en")


def test_message_is_stripped() -> None:
    text = message("no-answer", "en")
    assert text == text.strip()


def test_prompts_dir_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "custom.md").write_text("# greet\nHello {who}!\n\n# bye\nBye.\n", encoding="utf-8")
    (tmp_path / "broken.md").write_text("no headings here\n", encoding="utf-8")
    monkeypatch.setenv("POLICYQA_PROMPTS_DIR", str(tmp_path))
    assert prompts.prompt_names() == ["broken", "custom"]
    assert sections("custom") == {"greet": "Hello {who}!", "bye": "Bye."}
    assert render("custom", "greet", who="Seoul") == "Hello Seoul!"
    with pytest.raises(PromptError):
        sections("broken")
