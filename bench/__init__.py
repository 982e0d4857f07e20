"""permitflow's benchmark: `python -m bench` (or `make bench`) measures the engine against
raw SpiffWorkflow and the README's targets, and writes `bench/results.md`.

See `bench/README.md` for what each row measures and how.
"""
