"""Tests of manifests."""
