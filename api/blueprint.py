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
from webargs.flaskparser import FlaskParser, is_json_request


class SchemaOnceParser(FlaskParser):
    """webargs' Flask parser, keeping one instance per argument schema class and reading
    the JSON body the request-validation hook parsed."""

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

    def _raw_load_json(self, req: flask.Request) -> Any:
        # `check_request` parsed this body (and nothing else sets a parse that failed):
        # the same value `json.loads` gives, so the same arguments and the same errors.
        parsed = req._cached_json[0]
        if parsed is not Ellipsis and is_json_request(req):
            return parsed
        return super()._raw_load_json(req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with `SchemaOnceParser` reading the arguments."""

    ARGUMENTS_PARSER = SchemaOnceParser()
