"""The web app's pure rendering (escaping, refusals, source links), upload names, auth parsing,
and the `ChatApp` callbacks (upload, remove, respond, briefing) on a fake-embedder pipeline."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from policyqa.answering.answer import Answer
from policyqa.answering.verify import Citation
from policyqa.app.admin import DocumentAdmin, safe_upload_name
from policyqa.app.auth import parse_auth
from policyqa.app.chat import ChatApp
from policyqa.app.render import esc, file_url, keep, render_answer, render_passages, render_sources
from policyqa.app.ui import build_admin_app, build_app
from policyqa.core.models import Chunk, Passage
from policyqa.core.settings import Settings
from policyqa.pipeline import Pipeline
from policyqa.retrieval import searcher as retrieve

from .conftest import CountingFake, make_fakes, small_settings, write_small_corpus

QUESTION_KO = "포괄보조는 2026년에 얼마로 늘어나나요?"
HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) "
    "**bold** _em_ `code`"
)


def _assert_inert(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<img" not in lowered
    assert "](javascript" not in lowered


def _citation(n: int = 1, **changes: Any) -> Citation:
    values: dict[str, Any] = {
        "n": n,
        "chunk_id": f"d.md#p3#c{n}",
        "doc": "d.md",
        "title": "Title",
        "page": 3,
        "page_label": "iii",
        "section": "1. Section",
        "quote": "A quoted sentence.",
        "language": "en",
    }
    values.update(changes)
    return Citation(**values)


def _answer(text: str = "Grants grow. [1]", **changes: Any) -> Answer:
    values: dict[str, Any] = {
        "question": "q",
        "standalone_question": "q",
        "text": text,
        "answered": True,
        "language": "en",
        "citations": [_citation()],
    }
    values.update(changes)
    return Answer(**values)


@pytest.fixture(autouse=True)
def _temp_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ChatApp keeps briefings in a mkdtemp() folder: keep those inside the test's tmp_path."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))


@pytest.fixture
def indexed(fake_pipeline: Pipeline) -> Pipeline:
    write_small_corpus(fake_pipeline.settings.corpus)
    fake_pipeline.ingest()
    return fake_pipeline


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """An indexed pipeline like `indexed`, built once, for the tests that only read the index."""
    root = tmp_path_factory.mktemp("ui")
    settings = small_settings(root)
    pipeline = Pipeline(settings, embedder_overrides=make_fakes())
    write_small_corpus(settings.corpus)
    pipeline.ingest()
    return pipeline


@pytest.fixture
def chat_app(shared: Pipeline) -> ChatApp:
    return ChatApp(shared)


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


# -- rendering -------------------------------------------------------------------------------


def test_passages_are_escaped() -> None:
    chunk = Chunk(
        "d#p1#c0",
        "d.pdf",
        "<b>T</b>",
        1,
        "1",
        "1. <i>sec</i>",
        "en",
        "<script>alert(1)</script> text",
        "h",
    )
    html = render_passages([Passage(chunk=chunk, score=0.5, rank=1)])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>T</b>" not in html and "p. 1" in html
    assert "No passage" in render_passages([])


def test_esc_neutralises_html_and_markdown() -> None:
    out = esc(HOSTILE)
    _assert_inert(out)
    for char in "<>[]*_`":
        assert char not in out
    assert "&lt;script&gt;" in out
    assert esc("'\"&") == "&#x27;&quot;&amp;"


def test_render_answer_escapes_text_and_notes() -> None:
    answer = _answer(f"{HOSTILE} [1]", notes=[HOSTILE])
    html = render_answer(answer)
    _assert_inert(html)
    assert "data-cite='0:1'" in html and "[1]</a></sup>" in html  # markers survive escaping
    assert "class='note'" in html
    _assert_inert(render_answer(answer, visible_text=HOSTILE))


def test_render_sources_escapes_document_text() -> None:
    answer = _answer(
        citations=[
            _citation(
                1,
                title=HOSTILE,
                quote=HOSTILE,
                section=HOSTILE,
                doc="<script>x</script>.pdf",
                page_label="<img src=x onerror=alert(1)>",
            )
        ]
    )
    html = render_sources(answer)
    _assert_inert(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The doc id goes into an href: it must not be able to close the attribute.
    assert "href='/files/%3Cscript%3Ex%3C/script%3E.pdf#page=3'" in html


def test_render_sources_escapes_closest_passages_of_a_refusal() -> None:
    chunk = Chunk("c", "d.pdf", HOSTILE, 2, "2", HOSTILE, "en", HOSTILE, "h")
    answer = _answer("Not found.", answered=False, citations=[], passages=[Passage(chunk, 0.5, 1)])
    html = render_sources(answer)
    _assert_inert(html)
    assert "Closest passages" in html and "/files/d.pdf#page=2" in html


@pytest.mark.parametrize(
    ("language", "label"), [("en", "Not in the documents"), ("ko", "문서에 없는 내용")]
)
def test_refusals_look_different(language: str, label: str) -> None:
    refusal = _answer("The documents do not say.", answered=False, language=language)
    html = render_answer(refusal)
    assert "class='refusal'" in html and label in html
    other = "문서에 없는 내용" if language == "en" else "Not in the documents"
    assert other not in html
    answered = render_answer(_answer(language=language))
    assert "refusal" not in answered
    assert "Not in the documents" not in answered and "문서에 없는 내용" not in answered


def test_render_sources_links_every_citation_to_its_page() -> None:
    citations = [
        _citation(1, doc="budget-ko.pdf", page=1, page_label="1"),
        _citation(2, doc="overview-en.pdf", page=12, page_label="x"),
        _citation(3, doc="보고서 2026.pdf", page=4, page_label="4"),
    ]
    html = render_sources(_answer("a [1] b [2] c [3]", citations=citations))
    assert "Sources" in html
    for c in citations:
        assert f"[{c.n}]" in html
        assert f"id='cite-{c.n}'" in html
        assert f"data-cite='0:{c.n}'" in html
        assert f"href='{file_url(c.doc, c.page)}'" in html
        assert f"p. {c.page_label}" in html
    assert "href='/files/budget-ko.pdf#page=1'" in html
    assert "href='/files/overview-en.pdf#page=12'" in html
    assert "href='/files/%EB%B3%B4%EA%B3%A0%EC%84%9C%202026.pdf#page=4'" in html
    assert html.count("class='page-link'") == 3


def test_render_sources_placeholder() -> None:
    assert "Sources of the answer appear here" in render_sources(None)


# -- upload names and auth -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.pdf",
        "..\\..\\windows\\evil.md",
        "/abs/path/report.pdf",
        "a/b/../c.txt",
    ],
)
def test_safe_upload_name_strips_folders(name: str) -> None:
    base = safe_upload_name(name)
    assert base is None or ("/" not in base and "\\" not in base and ".." not in base)
    assert base is None or base == base.strip(". ")


@pytest.mark.parametrize(
    "name",
    ["x.exe", "x.pdf.exe", "x", "", "..", "../", "_private.md", "x.docx"],
)
def test_safe_upload_name_rejects(name: str) -> None:
    assert safe_upload_name(name) is None


def test_safe_upload_name_never_returns_a_hidden_name() -> None:
    for name in (".hidden.pdf", "..hidden.md", " .x.txt", "dir/.hidden.pdf"):
        base = safe_upload_name(name)
        assert base is None or not base.startswith(".")


def test_safe_upload_name_rejects_hidden_files() -> None:
    assert safe_upload_name(".hidden.pdf") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("보고서.md", "보고서.md"),
        ("notes.txt", "notes.txt"),
        ("Plan 2026.markdown", "Plan 2026.markdown"),
        ("a<b>.pdf", "a_b_.pdf"),
        ("Scan.PDF ", "Scan.PDF"),
    ],
)
def test_safe_upload_name_accepts(name: str, expected: str) -> None:
    assert safe_upload_name(name) == expected


def test_parse_auth(tmp_path: Path) -> None:
    assert parse_auth("") == []
    assert parse_auth("a:b,c:d") == [("a", "b"), ("c", "d")]
    assert parse_auth("a:b:c") == [("a", "b:c")]  # the password may contain ':'
    users = tmp_path / "users.txt"
    users.write_text("# admins\nalice:s3cret\n\n  bob:pw  \n", encoding="utf-8")
    assert parse_auth(str(users)) == [("alice", "s3cret"), ("bob", "pw")]
    for bad in ("nocolon", "a:", ":b", "a:b,nocolon"):
        with pytest.raises(ValueError, match="user:password"):
            parse_auth(bad)


# -- DocumentAdmin: upload and remove --------------------------------------------------------------


def _files_outside(tmp_path: Path, *skip: Path) -> set[Path]:
    return {
        p for p in tmp_path.rglob("*") if p.is_file() and not any(p.is_relative_to(s) for s in skip)
    }


def test_upload_indexes_a_markdown_file(indexed: Pipeline, uploads: Path) -> None:
    app = DocumentAdmin(indexed)
    source = uploads / "jeju-ko.md"
    source.write_text("# 제주\n\n제주특별자치도는 2006년 출범했다.\n", encoding="utf-8")
    result = app.upload([str(source)])
    assert "| jeju-ko.md | indexed |" in result
    assert "jeju-ko.md" in indexed.store.manifest()
    assert (indexed.settings.corpus / "jeju-ko.md").read_bytes() == source.read_bytes()
    # Gradio may also hand over file objects with a `.name`.
    other = uploads / "other.txt"
    other.write_text("Other text about block grants and transport.\n", encoding="utf-8")
    assert "| other.txt | indexed |" in app.upload([SimpleNamespace(name=str(other))])
    assert app.upload(None) == app.upload([]) == "No file selected."


def test_upload_rejects_unsupported_and_fake_pdf(indexed: Pipeline, uploads: Path) -> None:
    app = DocumentAdmin(indexed)
    exe = uploads / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    double = uploads / "x.pdf.exe"
    double.write_bytes(b"%PDF-1.4")
    fake = uploads / "fake.pdf"
    fake.write_text("just text renamed to .pdf\n", encoding="utf-8")
    before = set(indexed.store.manifest())
    result = app.upload([str(exe), str(double), str(fake)])
    assert "| tool.exe | rejected | unsupported file type |" in result
    assert "| x.pdf.exe | rejected | unsupported file type |" in result
    assert "| fake.pdf | rejected | not a PDF" in result
    assert "indexed" not in result
    assert set(indexed.store.manifest()) == before
    corpus = sorted(p.name for p in indexed.settings.corpus.iterdir())
    assert corpus == ["budget-en.md", "budget-ko.md", "transport-ko.md"]


def test_upload_removes_a_pdf_that_cannot_be_read(indexed: Pipeline, uploads: Path) -> None:
    broken = uploads / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n garbage, no objects")
    result = DocumentAdmin(indexed).upload([str(broken)])
    assert "| broken.pdf | rejected |" in result
    assert not (indexed.settings.corpus / "broken.pdf").exists()
    assert "broken.pdf" not in indexed.store.manifest()


def test_upload_rejects_files_over_the_size_limit(
    fake_settings: Settings, fakes: dict[str, CountingFake], uploads: Path
) -> None:
    small = fake_settings.replace(max_file_mb=0.001)  # 1000 bytes
    pipeline = Pipeline(small, embedder_overrides=dict(fakes))
    big = uploads / "big.md"
    big.write_text("# Big\n\n" + "word " * 400, encoding="utf-8")
    result = DocumentAdmin(pipeline).upload([str(big)])
    assert "| big.md | rejected |" in result and "over the limit" in result
    assert not (small.corpus / "big.md").exists()


def test_upload_never_writes_outside_the_corpus(
    indexed: Pipeline, uploads: Path, tmp_path: Path
) -> None:
    app = DocumentAdmin(indexed)
    (uploads / "sub").mkdir()
    (uploads / "evil.md").write_text("# Evil\n\nBlock grants are evil.\n", encoding="utf-8")
    corpus, home = indexed.settings.corpus, indexed.settings.home
    before = _files_outside(tmp_path, corpus, home)
    result = app.upload([str(uploads / "sub" / ".." / "evil.md")])
    assert "| evil.md | indexed |" in result
    assert (corpus / "evil.md").is_file()
    assert _files_outside(tmp_path, corpus, home) == before
    assert not (corpus.parent / "evil.md").exists()
    assert all(p.resolve().is_relative_to(corpus.resolve()) for p in corpus.rglob("*"))


def test_upload_of_an_excluded_name_is_not_reported_as_indexed(
    indexed: Pipeline, uploads: Path
) -> None:
    readme = uploads / "README.md"
    readme.write_text("# 제주\n\n제주특별자치도는 2006년 출범했다.\n", encoding="utf-8")
    result = DocumentAdmin(indexed).upload([str(readme)])
    reported = "| README.md | indexed |" in result
    assert reported == ("README.md" in indexed.store.manifest()), result


def test_remove_unindexes_and_archives_the_file(indexed: Pipeline) -> None:
    app = DocumentAdmin(indexed)
    content = (indexed.settings.corpus / "budget-ko.md").read_bytes()
    result = app.remove("budget-ko.md")
    assert "Removed budget-ko.md" in result
    assert "budget-ko.md" not in indexed.store.manifest()
    assert not (indexed.settings.corpus / "budget-ko.md").exists()
    archived = next((indexed.settings.home / "removed").rglob("budget-ko.md"))
    assert archived.read_bytes() == content  # moved, not deleted
    assert app.remove("budget-ko.md") == "budget-ko.md is not in the index."
    assert app.remove("") == "Choose a document."
    assert "&lt;x&gt;" in app.remove("<x>")


def test_removed_document_is_not_cited_afterwards(
    indexed: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long refresh interval makes the timing deterministic: the app's own change must show
    # at once, whatever the interval that throttles checks for other writers.
    monkeypatch.setattr(retrieve, "_REFRESH_SECONDS", 3600.0)
    app = DocumentAdmin(indexed)
    before = indexed.ask(QUESTION_KO)
    assert "budget-ko.md" in {c.doc for c in before.citations}
    app.remove("budget-ko.md")
    after = indexed.ask(QUESTION_KO)
    assert "budget-ko.md" not in {c.doc for c in after.citations}
    assert all(p.chunk.doc_id != "budget-ko.md" for p in after.passages)


def test_remove_keeps_every_archived_version(indexed: Pipeline, uploads: Path) -> None:
    app = DocumentAdmin(indexed)
    first = (indexed.settings.corpus / "budget-ko.md").read_text(encoding="utf-8")
    app.remove("budget-ko.md")
    second = uploads / "budget-ko.md"
    second.write_text("# 예산\n\n포괄보조는 2027년에 12조원이 된다.\n", encoding="utf-8")
    assert "indexed" in app.upload([str(second)])
    app.remove("budget-ko.md")
    archived = [
        p.read_text(encoding="utf-8")
        for p in (indexed.settings.home / "removed").rglob("*")
        if p.is_file()
    ]
    assert first in archived and second.read_text(encoding="utf-8") in archived


# -- ChatApp: respond, viewer and briefing ---------------------------------------------------


def _drive(
    app: ChatApp, message: str, history: list[dict[str, str]], answers: list[Answer] | None = None
) -> list[tuple[Any, ...]]:
    return list(app.respond(message, [], history, answers or [], "", [], ""))


def _final(outputs: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The last step's values, with what it left unchanged (Gradio's skip) as None."""
    return tuple(None if v == keep() else v for v in outputs[-1])


def test_respond_streams_and_extends_history(chat_app: ChatApp) -> None:
    history: list[dict[str, str]] = []
    outputs = _drive(chat_app, QUESTION_KO, history)
    assert len(outputs) > 1  # the verified answer is revealed in steps
    assert outputs[0][4] == ""  # the box empties as the question goes into the chat
    chat, new_history, answers, sources, box, _note, viewer = _final(outputs)
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert chat[0]["content"] == QUESTION_KO
    assert "[1]</a></sup>" in chat[1]["content"] and "10.6" in chat[1]["content"]
    assert "href='#cite-0-1'" in chat[1]["content"]
    (answer,) = answers
    assert answer.answered
    assert "Sources" in sources or "출처" in sources
    assert "/files/" in sources and "data-cite='0:1'" in sources
    assert box is None and viewer == ""
    assert new_history == [
        {"role": "user", "content": QUESTION_KO},
        {"role": "assistant", "content": answer.text},
    ]
    assert history == []  # the caller's state is not mutated
    for step in outputs[1:-1]:
        assert step[0][0]["content"] == QUESTION_KO


def test_conversations_never_share_turns(chat_app: ChatApp) -> None:
    out_a = _final(_drive(chat_app, QUESTION_KO, []))
    out_b = _final(_drive(chat_app, "광역철도 확대 계획은?", []))
    history_a, history_b = out_a[1], out_b[1]
    assert len(history_a) == len(history_b) == 2
    assert history_a[0]["content"] == QUESTION_KO
    assert history_b[0]["content"] == "광역철도 확대 계획은?"
    # A follow-up in conversation A uses A's question, never B's.
    chat, grown, answers, *_ = _final(_drive(chat_app, "그럼 2025년에는?", history_a, out_a[2]))
    assert len(grown) == 4 and grown[:2] == history_a
    assert len(chat) == 2  # only this call's turns: the chat came in empty
    answer = answers[-1]
    assert "포괄보조" in answer.standalone_question
    assert "광역철도" not in answer.standalone_question
    assert len(history_b) == 2 and history_b[0]["content"] == "광역철도 확대 계획은?"


def test_an_empty_question_changes_nothing(chat_app: ChatApp) -> None:
    for message in ("", "   ", "\x00\x01"):
        outputs = _drive(chat_app, message, [])
        assert outputs == [(keep(),) * 7]


def test_a_second_question_while_one_runs_is_ignored(chat_app: ChatApp) -> None:
    first = chat_app.respond(QUESTION_KO, [], [], [], "", [], "", session="s1")
    next(first)  # the first question is running
    second = list(chat_app.respond("광역철도 확대 계획은?", [], [], [], "", [], "", session="s1"))
    assert second == [(keep(),) * 7]
    other = _final(list(chat_app.respond(QUESTION_KO, [], [], [], "", [], "", session="s2")))
    assert other[2]  # another browser is not held up
    assert _final(list(first))[2][0].answered
    # Once the first is done, the same browser asks again.
    assert _final(list(chat_app.respond(QUESTION_KO, [], [], [], "", [], "", session="s1")))[2]


@pytest.mark.parametrize(
    ("question", "words"), [("가" * 2001, "너무 깁니다"), ("a " * 1001, "too long")]
)
def test_an_over_long_question_stays_in_the_box_with_the_limit(
    chat_app: ChatApp, question: str, words: str
) -> None:
    (step,) = _drive(chat_app, question, [])
    chat, _, _, _, box, note, _ = step
    assert chat == keep() and box == keep()  # the box keeps the text; the chat is untouched
    assert (
        words in note
        and "2000" in note
        and note[note.index(">") + 1].isupper() | (words == "너무 깁니다")
    )


def test_respond_escapes_the_question(chat_app: ChatApp) -> None:
    chat = _final(_drive(chat_app, f"포괄보조 {HOSTILE}", []))[0]
    for message in chat:
        _assert_inert(message["content"])


def test_view_opens_a_markdown_citation_in_context(chat_app: ChatApp) -> None:
    answers = _final(_drive(chat_app, QUESTION_KO, []))[2]
    citation = answers[0].citations[0]
    html = chat_app.view(f"0:{citation.n}", answers)
    assert "class='viewer'" in html and "<mark class='quote-mark'>" in html
    assert esc(citation.title) in html and "/files/" in html
    for bad in ("", "x", "0:99", "5:1", "0:1; rm"):
        assert chat_app.view(bad, answers) == ""
    assert chat_app.view("0:1", []) == ""


def test_briefing(chat_app: ChatApp) -> None:
    markdown, md_file, docx_file = chat_app.briefing([])
    assert "Ask a question first" in markdown and md_file is None and docx_file is None
    answers = _final(_drive(chat_app, QUESTION_KO, []))[2]
    markdown, md_file, docx_file = chat_app.briefing(answers, "http://example.org")
    assert markdown.startswith("# ") and "10.6" in markdown
    assert "(http://example.org/files/" in markdown
    assert Path(md_file).name == "briefing.md" and Path(docx_file).name == "briefing.docx"
    assert Path(md_file).is_relative_to(chat_app.downloads)
    assert Path(md_file).read_text(encoding="utf-8") == markdown
    assert Path(docx_file).read_bytes()[:2] == b"PK"  # a .docx is a zip
    again = chat_app.briefing(answers)
    assert again[1] != md_file  # each briefing gets its own folder


def test_documents_are_listed_by_title(chat_app: ChatApp) -> None:
    choices = chat_app.document_choices()
    assert ("예산", "budget-ko.md") in choices and ("Budget", "budget-en.md") in choices


# -- the Gradio app --------------------------------------------------------------------------


def test_app_builds_on_an_empty_index(fake_pipeline: Pipeline) -> None:
    assert build_app(pipeline=fake_pipeline) is not None


@pytest.mark.parametrize("admin", [False, True])
def test_app_never_holds_the_administration(shared: Pipeline, admin: bool) -> None:
    demo = build_app(shared.settings.replace(admin=admin), shared)
    config = json.dumps(demo.get_config_file(), default=str, ensure_ascii=False)
    assert "Chat / 대화" in config
    assert "Documents (admin)" not in config and '"upload"' not in config
    assert "budget-ko.md" in config  # the document filter lists the index
    admin_config = json.dumps(build_admin_app(pipeline=shared).get_config_file(), default=str)
    assert '"elem_id": "upload"' in admin_config and "budget-ko.md" in admin_config


def test_a_refusal_names_the_documents_and_the_question_searched(chat_app: ChatApp) -> None:
    pipeline = chat_app.pipeline
    one = pipeline.ask("국민연금 보험료율은 얼마인가요?", [], {"doc_id": ["budget-ko.md"]})
    assert not one.answered and "선택한 문서 「예산」에서" in one.text
    every = pipeline.ask("What is the national pension contribution rate?")
    assert not every.answered and "I searched all 3 documents for" in every.text
    history = [
        {"role": "user", "content": "국민연금 개혁은 어떻게 되나요?"},
        {"role": "assistant", "content": "문서에 없는 내용입니다."},
    ]
    later = pipeline.ask("그럼 보험료율은요?", history)
    assert not later.answered and later.standalone_question == "국민연금 개혁 보험료율은요?"
    assert '"국민연금 개혁 보험료율은요?"' in later.text  # what was searched, not the follow-up
