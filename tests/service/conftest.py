from tests.support.blob_fixtures import blob_store, moto_s3  # noqa: F401
