"""The API's blueprint class: flask-smorest's, with argument schemas built once.

flask-smorest hands the schema *class* given to `@blp.arguments(...)` to webargs, which
made a new instance of it on every request (marshmallow builds and binds every field
anew: about a twentieth of what the step request spent outside the service). The parser
here makes each class's instance once and keeps it; loading with a schema instance keeps
no state between calls. The OpenAPI document is built from the decorators' arguments,
which stay the classes, so it does not change. A body schema of plain `Dict` fields (the
step's `{"data": {...}}`) is loaded without marshmallow when the body is plain
(`api.fast_load`); any other body is marshmallow's, errors included.
"""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from marshmallow import Schema, missing
from webargs.flaskparser import FlaskParser, is_json_request

from api.fast_load import FastLoad, fast_loader


class SchemaOnceParser(FlaskParser):
    """webargs' Flask parser, keeping one instance per argument schema class and reading
    the JSON body the request-validation hook parsed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[type[Schema], Schema] = {}
        self._loaders: dict[Schema, FastLoad | None] = {}

    def parse(
        self, argmap: Any, req: flask.Request | None = None, *, location: str | None = None,
        validate: Any = None, **kwargs: Any,
    ) -> Any:
        # The step's way: a JSON body `check_request` parsed, for a schema whose fast load
        # (below, set on its first request) answers it; webargs' own steps would reach the
        # same load with the same data. Anything else is webargs' parse.
        if validate is None and (location or self.location) == "json":
            schema = self._schemas.get(argmap) if isinstance(argmap, type) else None
            load = self._loaders.get(schema) if schema is not None else None
            if load is not None:
                if req is None:
                    req = flask.request._get_current_object()  # type: ignore[attr-defined]
                parsed = req._cached_json[0]
                if parsed is not Ellipsis and is_json_request(req):
                    loaded = load(parsed)
                    if loaded is not None:
                        return loaded
        return super().parse(argmap, req, location=location, validate=validate, **kwargs)

    def _get_schema(self, argmap: Any, req: flask.Request) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def _process_location_data(
        self, location_data: Any, schema: Schema, req: flask.Request, location: str,
        unknown: str | None, validators: Any,
    ) -> Any:
        if not validators:  # (the argument validators of `use_args`: none in this API)
            try:
                load = self._loaders[schema]
            except KeyError:
                load = self._loaders[schema] = fast_loader(schema)
            if load is not None:
                loaded = load({} if location_data is missing else location_data)
                if loaded is not None:
                    return loaded
        return super()._process_location_data(
            location_data, schema, req, location, unknown, validators
        )

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
