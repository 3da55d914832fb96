"""Profiles of the API and the import, and the streaming .xlsx writers compared side by side."""
