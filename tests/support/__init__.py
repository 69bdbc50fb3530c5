"""Helpers shared by the tests (not product code): the OpenAPI contract checker and friends."""
