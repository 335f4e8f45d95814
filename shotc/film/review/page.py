"""The review page: one self-contained HTML file (`page.css` and `page.js` are inlined; no
external assets, so it works offline and from a copied folder). The data is embedded as JSON
and rendered by a small script that builds the DOM with text nodes only: prompts, titles and
kie.ai's failure messages can never inject markup. Served, it polls `/api/project` and
re-renders only the scenes that changed (a playing video elsewhere keeps playing); static, it
has no buttons and no polling."""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib import resources
from typing import Any

POLL_MS = 2000


@cache
def _asset(name: str) -> str:
    return resources.files("shotc.film.review").joinpath(name).read_text("utf-8")


def _embed(data: dict[str, Any]) -> str:
    """JSON that is safe inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(data: dict[str, Any]) -> str:
    """The whole page for the project data `data` (`Project.to_json()`)."""
    title = escape(str(data.get("title", "")))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{title} · shotc review</title><style>{_asset('page.css')}</style></head><body>"
        f'<header><h1 id="title">{title}</h1><span class="totals" id="totals"></span></header>'
        '<main id="scenes"></main>'
        f'<script type="application/json" id="model">{_embed(data)}</script>'
        f"<script>{_asset('page.js').replace('__POLL_MS__', str(POLL_MS))}</script>"
        "</body></html>\n"
    )
