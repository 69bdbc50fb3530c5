"""Tests of providers/batchcalling."""
