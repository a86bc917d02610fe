"""``python -m mmretrieval.cli`` runs ``mmr``."""

from mmretrieval.cli.main import app

app()
