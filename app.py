"""Start the policyqa web app (chat UI + HTTP API) on the index built by `policyqa ingest`.

Host and port come from Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT
(default 127.0.0.1:7860). Settings come from POLICYQA_* variables (see README).
"""

from policyqa.app.web import serve

if __name__ == "__main__":
    serve()
