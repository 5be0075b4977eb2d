"""The ``automl`` command: thin Typer commands over the API, and what they print."""
