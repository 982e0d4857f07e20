"""The reusable field schemas (`<name>.json`), referenced as `permitflow:fields/<name>`."""
