"""The ``mmr`` command (``main``: the typer app and its commands; ``moderate``: ``mmr
moderate``; ``support``: what the commands share). ``mmr`` runs ``mmretrieval.cli:app``."""

from mmretrieval.cli.main import app

__all__ = ["app"]
