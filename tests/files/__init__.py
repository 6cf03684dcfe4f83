"""Tests of the file store adapters."""
