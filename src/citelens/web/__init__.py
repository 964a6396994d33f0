"""Web app and JSON API (``citelens serve``). Build one with :func:`citelens.web.app.create_app`."""
