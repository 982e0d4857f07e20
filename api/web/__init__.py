"""The web console: server-rendered pages for officers, supervisors, analysts and citizens.

Blueprints (`public`, `officers`, `supervisors`, `analysts`) call the same services as the
API with the same `Actor`; templates in `templates/`, the package's own CSS and JS, and
vendored bpmn-js, Swagger UI, Chart.js and axe-core in `static/` (see
`static/vendor/VENDORED.md`). No inline script or style: the CSP says `'self'` only.
"""

from __future__ import annotations

from flask import Flask

from api.web import analysts, officers, public, supervisors, verify
from api.web.pages import init_pages, prepare_blueprint

# Set up once per process (a blueprint cannot change after its first registration).
BLUEPRINTS = [
    prepare_blueprint(b)
    for b in (public.blp, officers.blp, supervisors.blp, analysts.blp, verify.blp)
]


def init_web(app: Flask) -> None:
    """Register the console's blueprints and the security headers on `app`."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    init_pages(app)
