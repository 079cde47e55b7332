"""Subcommands of ``quartiere`` that belong to the service (``serve``)."""
