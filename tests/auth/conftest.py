"""Fixtures for the auth tests."""

from tests.support.okta import okta_keys, okta_server, okta_settings

__all__ = ["okta_keys", "okta_server", "okta_settings"]
