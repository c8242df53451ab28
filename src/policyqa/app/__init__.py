"""The faces of the pipeline: the CLI (`cli`, `stats`), and the web app that `web.build_server`
assembles: the HTTP API (`api`), the Gradio pages (`ui`) with their callbacks (`chat`) and HTML
(`render`), the citation viewer's page images (`viewer`), and the security pieces (accounts and
roles in `auth`, request limits in `limits`, document administration in `admin`)."""
