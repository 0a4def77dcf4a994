"""Telegram Desktop chat export (``result.json``: one chat, or the account export's ``chats.list``):
``adapter.py`` maps it in Python (small by nature); ``options.py`` declares what it reads."""
