"""Entry points: the `permitflow` command line, the gunicorn server and the worker loop."""
