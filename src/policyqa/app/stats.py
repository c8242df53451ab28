"""`policyqa stats --json`: the index, its documents and the full effective configuration."""

from __future__ import annotations

import argparse
from typing import Any

from policyqa.core.settings import Settings, effective_configuration
from policyqa.index.store import Store


def stats_json(
    settings: Settings, args: argparse.Namespace, store: Store, location: str
) -> dict[str, Any]:
    manifest = store.manifest()
    return {
        "index": location,
        "collection": settings.collection,
        "embedders": settings.embedder,
        "documents": len(manifest),
        "chunks": store.count_chunks(),
        "files": [
            {
                "doc_id": e.doc_id,
                "title": e.title,
                "pages": e.pages,
                "chunks": e.chunks,
                "language": e.language,
            }
            for e in sorted(manifest.values(), key=lambda e: e.doc_id)
        ],
        "configuration": effective_configuration(settings, args),
    }
