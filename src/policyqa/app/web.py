"""The web app: a Gradio chat with cited answers, plus an HTTP API on the same port.

`build_server()` returns one FastAPI app: the HTTP API and corpus files (`app.api`), the Gradio
question UI at `/` (`app.ui`, its callbacks in `app.chat`, its HTML in `app.render`) and, when
on, the administration page at `/admin`. Per-browser state (conversation, answers) lives in
`gr.State`, so concurrent users never share a conversation. Document text is HTML-escaped
everywhere it is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyqa.app.api import add_routes
from policyqa.app.auth import Accounts, LoginLimiter, parse_auth
from policyqa.app.limits import RequestGuard
from policyqa.app.render import CSS, VIEWER_JS
from policyqa.app.ui import build_admin_app, build_app
from policyqa.core.settings import SERVER_NAME, SERVER_PORT, Settings
from policyqa.core.tuning import FILES_PER_UPLOAD, MAX_REQUEST_BYTES
from policyqa.pipeline import Pipeline

if TYPE_CHECKING:
    from gradio import Blocks

# No interactive docs or schema, here or in the mounted Gradio apps: they list every route.
NO_DOCS: dict[str, Any] = {"docs_url": None, "redoc_url": None, "openapi_url": None}


def build_server(
    settings: Settings | None = None, pipeline: Pipeline | None = None
) -> RequestGuard:
    """FastAPI app serving the API, the corpus files, the Gradio UI and (with POLICYQA_ADMIN or
    POLICYQA_ADMINS) the administration page at /admin, on one port."""
    import gradio as gr
    from fastapi import FastAPI
    from gradio.utils import get_upload_folder

    from policyqa.core.settings import SettingsError

    settings = settings or (pipeline.settings if pipeline else Settings.from_env())
    pipeline = pipeline or Pipeline(settings)
    accounts = Accounts(parse_auth(settings.auth), parse_auth(settings.admins, "POLICYQA_ADMINS"))
    admin_on = settings.admin or bool(accounts.admins)
    if admin_on and accounts.users and not accounts.admins:
        raise SettingsError(
            "POLICYQA_ADMIN is on and the app has a login (POLICYQA_AUTH), but no administrator "
            "account: set POLICYQA_ADMINS (user:password) for the people who may upload and "
            "remove documents"
        )
    limiter = LoginLimiter(settings.login_attempts)
    server = FastAPI(title="policyqa", **NO_DOCS)
    gradio_apps: list[Any] = []  # the question app, once mounted: its login cookie counts

    add_routes(server, settings, pipeline, accounts, gradio_apps)

    from policyqa.index.store import IndexDamagedError, IndexMismatchError, damaged

    try:  # a damaged vector index opens and counts, but fails here
        pipeline.search("health check", 1)
    except (IndexMismatchError, IndexDamagedError):
        raise
    except Exception as exc:
        raise IndexDamagedError(
            damaged(settings.home / "chroma", f"a test search failed: {type(exc).__name__}")
        ) from exc
    blocked = [str(Path(settings.home).resolve()), str(Path(settings.corpus).resolve())]
    if admin_on:
        admin_demo = build_admin_app(settings, pipeline, Path(get_upload_folder())).queue(
            default_concurrency_limit=1
        )
        gr.mount_gradio_app(
            server,
            admin_demo,
            path="/admin",
            auth=(lambda user, password: accounts.check(user, password, admin=True))
            if accounts.admins
            else None,
            show_error=False,
            css=CSS,
            max_file_size=int(settings.max_file_mb * 1_000_000),
            blocked_paths=blocked,
            footer_links=[],
            app_kwargs=dict(NO_DOCS),  # Gradio adds to it
        )
        guard_files(admin_demo)
    demo = build_app(settings, pipeline).queue(default_concurrency_limit=4)
    gr.mount_gradio_app(
        server,
        demo,
        path="/",
        auth=(lambda user, password: accounts.check(user, password)) if accounts.login else None,
        show_error=False,
        css=CSS,
        js=VIEWER_JS,
        max_file_size=MAX_REQUEST_BYTES,
        blocked_paths=blocked,
        footer_links=[],
        app_kwargs=dict(NO_DOCS),
    )
    guard_files(demo)
    gradio_apps.extend(
        getattr(route, "app", None)
        for route in server.routes
        if getattr(route, "path", None) in ("", "/")
    )
    upload_limit = int(settings.max_file_mb * 1_000_000) * FILES_PER_UPLOAD + MAX_REQUEST_BYTES
    return RequestGuard(server, limiter, MAX_REQUEST_BYTES, upload_limit, upload_prefix="/admin/")


def guard_files(demo: Blocks) -> None:
    """Turn on Gradio's check of the file paths that requests name.

    Gradio copies any file that a request's data names (a FileData dict, in any component's
    value) into its cache and serves it. `processing_utils._check_allowed` refuses paths outside
    its upload folder, but returns at once while `blocks.has_launched` is false, and only
    `Blocks.launch()` sets it: `mount_gradio_app` does not, so every path was accepted. The flag
    is set here, and a probe makes sure the check now refuses a path outside the upload folder
    (a Gradio that changed how this works stops the app instead of serving files).
    """
    from gradio.context import LocalContext
    from gradio.exceptions import InvalidPathError
    from gradio.processing_utils import _check_allowed

    demo.has_launched = True
    token = LocalContext.blocks.set(demo)
    try:
        _check_allowed(__file__, check_in_upload_folder=True)
    except InvalidPathError:
        return
    finally:
        LocalContext.blocks.reset(token)
    raise RuntimeError(
        "Gradio's file path check is not active; refusing to serve (see ui.guard_files)"
    )


LOOPBACK = ("127.", "localhost", "::1")


def serve(settings: Settings | None = None) -> None:
    import sys

    import uvicorn

    from policyqa.core.settings import SettingsError
    from policyqa.index.store import IndexDamagedError, IndexMismatchError

    host = SERVER_NAME.value()
    port = int(SERVER_PORT.value())
    try:
        settings = settings or Settings.from_env()
        if settings.admin and not settings.admins and not host.startswith(LOOPBACK):
            raise SettingsError(
                f"POLICYQA_ADMIN is on without administrator accounts and the app would serve "
                f"{host}: set POLICYQA_ADMINS (and POLICYQA_AUTH), or serve 127.0.0.1"
            )
        app = build_server(settings)
    except (SettingsError, IndexMismatchError, IndexDamagedError, ValueError, OSError) as exc:
        print(f"policyqa: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"policyqa on http://{host}:{port} (API: /api/ask, /api/health)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
