"""Integrations with other libraries.

Each submodule imports its third-party library lazily, so ``import xgram``
works without them: :mod:`xgram.contrib.hf` needs ``torch`` and
``transformers``.
"""
