"""The review workspace: a small browser app at /app (one server-rendered page, static JS/CSS, no CDN).

The page holds no data of its own: the script signs in with an API key kept in sessionStorage and talks to
the /v1 API with `Authorization: Bearer`, so tenancy and validation stay in one place.
"""
from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template

bp = Blueprint("webapp", __name__, url_prefix="/app", template_folder="templates",
               static_folder="static", static_url_path="/static")

# Document text reaches the page only through textContent; the policy is the second line of defence.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@bp.get("/")
def index() -> Response:
    """The single page of the workspace (sign-in, documents, abstract views are drawn by app.js)."""
    resp = make_response(render_template("webapp/index.html"))
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"
    return resp
