"""JSON-Schema form handling: validate task data, check form schemas, reusable fields.

Reusable fields are referenced as `{"$ref": "permitflow:fields/<name>"}` or used as formats
(`{"type": "string", "format": "nik"}`); names in `FIELD_NAMES`. Imports only jsonschema,
referencing, python-stdnum, google-re2 and the standard library.

Importing `forms` makes jsonschema match every form `pattern` with RE2, in linear time
(`forms.regex.install`): a process that validates forms must never backtrack.
"""

from forms import regex
from forms.registry import FIELD_NAMES, FIELD_URI_PREFIX, field_schemas, field_uri
from forms.schemas import schema_problems
from forms.validation import FieldError, FormSchemaError, FormValidator

regex.install()

__all__ = [
    "FIELD_NAMES",
    "FIELD_URI_PREFIX",
    "FieldError",
    "FormSchemaError",
    "FormValidator",
    "field_schemas",
    "field_uri",
    "schema_problems",
]
