"""Adapters to outside services that are not the web or the command line (remote geocoders)."""
