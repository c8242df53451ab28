"""Document administration: uploads."""

from __future__ import annotations

from pathlib import Path

from policyqa.app.admin import DocumentAdmin
from policyqa.ingest.indexer import ingest_lock
from policyqa.pipeline import Pipeline


# An upload while another ingest holds the lock says so, instead of Gradio's generic
# "Error", and does not report the files as indexed.
def test_upload_during_another_ingest_says_so(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    source = tmp_path / "new.md"
    source.write_text("# New\n\nNew ferry notes.\n", encoding="utf-8")
    with ingest_lock(fake_pipeline.settings.home):
        result = DocumentAdmin(fake_pipeline).upload([str(source)])
    assert "another ingest" in result
    assert "| new.md | indexed |" not in result
