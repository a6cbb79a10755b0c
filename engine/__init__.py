"""Tidepool: a low-code rules engine for CRM."""

__version__ = "0.1.0"
