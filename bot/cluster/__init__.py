"""Several bot workers behind a load balancer, sharing what a resident relies on (issue 17).

- :mod:`bot.cluster.shared`: the shared state (update ids, token buckets, button memos) over
  the reports database, as the async roles the handlers use.
- :mod:`bot.cluster.sync`: a resident's conversation state and draft, reloaded per update.
- :mod:`bot.cluster.sending`: python-telegram-bot's rate limiter, behind one send budget for all
  workers.
- :mod:`bot.cluster.webhook`: the worker's webhook server: an update is answered once, and only
  acknowledged after it was handled.
"""
