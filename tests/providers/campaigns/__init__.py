"""Tests of providers/campaigns."""
