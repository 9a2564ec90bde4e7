"""The cockpit's features: each one's interaction with the engineer, apart from the app.

The app (`tui.app`) builds these from its arguments and routes its keys and the screens'
messages to them; each feature opens its own screens and keeps a reference to what it
opened. They may use the domain, the store, the actions and the widgets; no widget
imports them.
"""
