"""Segment and link stages: sentences around callouts, one citation statement per cited reference."""

from citelens.statements.link import build_statements
from citelens.statements.segment import split_sentences

__all__ = ["build_statements", "split_sentences"]
