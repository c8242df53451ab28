"""The HTTP API: `/api/health`, `/api/ask`, the corpus files (`/files/<doc>`) and page images
(`/pages/<doc>?page=N`), with the validation of what an API request may carry."""

from __future__ import annotations

import logging
import math
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

# At module level: FastAPI resolves the route annotations (postponed by __future__) here.
from fastapi import Request

from policyqa.answering.answer import AnswerError
from policyqa.answering.condense import is_history
from policyqa.app.admin import UploadLog
from policyqa.app.auth import Accounts
from policyqa.app.chat import corpus_file
from policyqa.app.viewer import PageImages
from policyqa.core.labels import is_paged
from policyqa.core.settings import Settings
from policyqa.core.tuning import MAX_FILTER_KEYS, MAX_FILTER_VALUES, MAX_QUESTION_CHARS
from policyqa.pipeline import Pipeline
from policyqa.retrieval.filters import NATIONWIDE, REGION_KEYS, is_metadata_key

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


def validate_request(history: Any, filters: object, areas: Collection[str] = ()) -> str:
    """Why an API request's history or filters are malformed ("" when they are fine); a region
    filter must name one of `areas` or "nationwide"."""
    if not is_history(history):
        return '\'history\' must be a list of {"role", "content"} objects with string content'
    if any(len(t["content"]) > MAX_QUESTION_CHARS for t in history):
        return f"a history turn is too long (the limit is {MAX_QUESTION_CHARS} characters)"
    if filters is None:
        return ""
    if not isinstance(filters, dict):
        return "'filters' must be an object"
    if len(filters) > MAX_FILTER_KEYS:
        return f"too many filters (at most {MAX_FILTER_KEYS})"
    for key, value in filters.items():
        if not is_metadata_key(key):
            return f"filter key {key!r} is not a metadata field"
        values = value if isinstance(value, list) else [value]
        ok = (
            0 < len(values) <= MAX_FILTER_VALUES
            and all(_filter_scalar(v) for v in values)
            # Chroma's $in takes one type: a mixed list was a server error.
            and len({str if isinstance(v, str) else float for v in values}) == 1
        )
        if not ok:
            return (
                f"filter {key!r} must be a string, a finite number or a non-empty list of at "
                f"most {MAX_FILTER_VALUES} of one kind"
            )
        if key in REGION_KEYS:
            known = {*areas, NATIONWIDE}
            unknown = [v for v in values if v not in known]
            if unknown:
                return f"unknown region {unknown[0]!r}; use one of: {', '.join(sorted(known))}"
    return ""


def _filter_scalar(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def public_answerer(name: str) -> str:
    """The answerer's name without where it runs (an LLM endpoint's URL is internal)."""
    return name.split("@", 1)[0]


def add_routes(
    server: FastAPI,
    settings: Settings,
    pipeline: Pipeline,
    accounts: Accounts,
    gradio_apps: list[Any],
) -> None:
    """The API, file and page routes of `server`. With a login (`accounts`), each asks for
    HTTP Basic credentials or the login cookie of one of `gradio_apps` (filled once mounted)."""
    from fastapi import HTTPException
    from fastapi.responses import FileResponse, JSONResponse, Response
    from starlette.concurrency import run_in_threadpool

    def logged_in(request: Request) -> bool:
        if not accounts.login:
            return True
        if accounts.basic(request.headers.get("authorization", "")) is not None:
            return True
        for app in gradio_apps:
            for kind in ("access-token", "access-token-unsecure"):
                token = request.cookies.get(f"{kind}-{app.cookie_id}")
                if token and app.tokens.get(token) is not None:
                    return True
        return False

    def login_required() -> JSONResponse:
        return JSONResponse(
            {"error": "Login required: log in to the app, or send HTTP Basic credentials."},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="policyqa", charset="UTF-8"'},
        )

    @server.get("/api/health")
    async def health(request: Request) -> JSONResponse:
        if not logged_in(request):
            return login_required()
        try:
            # A real query: a damaged vector index answers counts but fails here.
            await run_in_threadpool(pipeline.search, "health check", 1)
            body = {
                "status": "ok",
                "documents": len(pipeline.store.manifest()),
                "chunks": pipeline.store.count_chunks(),
                "answerer": public_answerer(pipeline.answerer_name()),
            }
        except Exception:
            log.exception("health check failed")
            return JSONResponse(
                {"status": "error", "error": "The index cannot be searched; see the log."},
                status_code=503,
            )
        return JSONResponse(body)

    @server.post("/api/ask")
    async def ask(request: Request) -> JSONResponse:
        if not logged_in(request):
            return login_required()
        try:
            payload = await request.json()
        except Exception:
            return JSONResponse({"error": "the body must be JSON"}, status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("question"), str):
            return JSONResponse({"error": "'question' (a string) is required"}, status_code=400)
        history = payload.get("history") or []
        filters = payload.get("filters") or None
        problem = validate_request(history, filters, pipeline.domain.areas)
        if problem:
            return JSONResponse({"error": problem}, status_code=400)
        try:
            answer = await run_in_threadpool(
                pipeline.ask, payload["question"], history, filters, bool(payload.get("briefing"))
            )
        except AnswerError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception:
            log.exception("api ask failed")
            return JSONResponse({"error": "internal error (logged)"}, status_code=500)
        body = answer.to_json()
        uploaded = UploadLog(settings.home).uploaded()
        for citation in body.get("citations", []):
            record = uploaded.get(citation.get("doc"))
            citation["uploaded"] = (
                {"by": record.get("user"), "at": record.get("at")} if record else None
            )
        if payload.get("briefing"):
            body["briefing"] = pipeline.brief(answer)
        return JSONResponse(body)

    @server.get("/files/{doc_id:path}", response_model=None)
    def files(doc_id: str, request: Request) -> FileResponse | JSONResponse:
        if not logged_in(request):
            return login_required()
        path = corpus_file(settings, pipeline.store.manifest(), doc_id)
        if path is None:
            raise HTTPException(404, "no such document")
        media = "application/pdf" if path.suffix.lower() == ".pdf" else "text/plain; charset=utf-8"
        return FileResponse(path, media_type=media, content_disposition_type="inline")

    page_images = PageImages(settings.home / "pages", settings.page_cache_mb)

    @server.get("/pages/{doc_id:path}", response_model=None)
    def pages(doc_id: str, request: Request, page: int = 1) -> Response | JSONResponse:
        """A page of a corpus PDF as an image, for the citation viewer: the same login and
        path rules as /files."""
        if not logged_in(request):
            return login_required()
        manifest = pipeline.store.manifest()
        path = corpus_file(settings, manifest, doc_id)
        if path is None or not is_paged(doc_id) or not 1 <= page <= manifest[doc_id].pages:
            raise HTTPException(404, "no such page")
        try:
            data = page_images.png(path, manifest[doc_id].file_hash, page)
        except Exception:
            log.exception("rendering %s p.%s failed", doc_id, page)
            raise HTTPException(404, "the page cannot be shown") from None
        return Response(data, media_type="image/png", headers={"Cache-Control": "private"})
