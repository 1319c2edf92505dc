"""``python -m xgram.compat``: print the directory that makes ``import xgrammar`` use xgram."""

from __future__ import annotations

from . import site_dir

if __name__ == "__main__":
    print(site_dir())
