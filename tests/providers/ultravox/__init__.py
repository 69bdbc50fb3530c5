"""Tests of providers/ultravox."""
