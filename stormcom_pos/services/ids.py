"""Ids minted at the till: cuid2, like the server's, so the server keeps them."""

from __future__ import annotations

from cuid2 import create_id


def new_id() -> str:
    return create_id()
