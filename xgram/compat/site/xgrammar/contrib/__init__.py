"""Integrations: :mod:`xgrammar.contrib.hf` (``transformers``)."""
