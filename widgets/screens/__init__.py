"""Screens: each owns its feature's keys and interaction; the app composes them."""
