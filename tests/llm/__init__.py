"""Tests of the summarizer adapters."""
