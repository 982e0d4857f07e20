from tests.api.conftest import admin, app, client  # noqa: F401  (the API fixtures, shared)
