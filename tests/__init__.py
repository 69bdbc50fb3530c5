"""The test suite (a package, so that test modules and helpers import as `tests.*`)."""
