"""The resident's and the inspector's side of reports (issue 15), over :mod:`reports.ports`.

- :mod:`bot.reporting.services`: what the reporting handlers use (the store, the policy, the clock).
- :mod:`bot.reporting.draft`: the report being built (JSON-able, in ``user_data``) and the steps.
- :mod:`bot.reporting.render`: pure texts and keyboards of every step, card and relay.
- :mod:`bot.reporting.flow`: the resident's ConversationHandler (``/report`` and the card button):
  the emergency gate, then kind, place, when, what happened, photos, contact, notice, review, Send.
- :mod:`bot.reporting.staff`: ``/link`` and the staff buttons (Accept, Need more info, Redirect,
  Close), the resident's answers, verdicts and ``/myreports``.
- :mod:`bot.reporting.delivery`: the outbox worker, escalation and retention loops.
- :mod:`bot.reporting.persistence`: python-telegram-bot's persistence over the ReportStore, so a
  report halfway through survives a restart.
- :mod:`bot.reporting.wiring`: the handlers, the persistence and the worker plugged into
  :func:`bot.app.build_application`.
"""
