"""Start the policyqa web app on the index built by `policyqa ingest`.

Host and port come from Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
"""

from policyqa.ui import build_app

if __name__ == "__main__":
    build_app().queue().launch()
