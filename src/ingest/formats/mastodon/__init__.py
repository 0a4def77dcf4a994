"""Mastodon: the account export's ``outbox.json`` and the REST API's status JSON. ``adapter.py`` maps
them in Python (small by nature); ``options.py`` declares what it reads."""
