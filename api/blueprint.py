"""The API's blueprint class: flask-smorest's, with argument schemas built once.

flask-smorest hands the schema *class* given to `@blp.arguments(...)` to webargs, which
made a new instance of it on every request (marshmallow builds and binds every field
anew: about a twentieth of what the step request spent outside the service). The parser
here makes each class's instance once and keeps it; loading with a schema instance keeps
no state between calls. The OpenAPI document is built from the decorators' arguments,
which stay the classes, so it does not change.
"""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from marshmallow import Schema
from webargs.flaskparser import FlaskParser


class SchemaOnceParser(FlaskParser):
    """webargs' Flask parser, keeping one instance per argument schema class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[type[Schema], Schema] = {}

    def _get_schema(self, argmap: Any, req: flask.Request) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with `SchemaOnceParser` reading the arguments."""

    ARGUMENTS_PARSER = SchemaOnceParser()
