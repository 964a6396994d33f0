"""Placeholder: commands are added here by the issue that builds them."""
