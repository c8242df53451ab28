from policyqa.models import Chunk, Passage
from policyqa.pipeline import Pipeline
from policyqa.ui import build_app, render_passages


def test_passages_are_escaped() -> None:
    chunk = Chunk(
        "d#p1#c0",
        "d.md",
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


def test_app_builds_on_an_empty_index(fake_pipeline: Pipeline) -> None:
    app = build_app(pipeline=fake_pipeline)
    assert app is not None
    assert "No passage" in render_passages([])
