"""X (Twitter) account archive ``tweets.js`` (alone or in the archive zip): ``adapter.py`` maps it in
Python (one account's posts, small by nature); ``options.py`` declares what it reads."""
