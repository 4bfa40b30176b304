"""Reports from residents to their inspector, and everything that follows them.

A resident files a report through the bot (``bot/reporting/``); it gets a reference number at
once and is stored before the resident sees that number. Delivery to the sector's staff chat, the
inspector's actions, relays between inspector and resident, escalation to the district's duty
chat and status pushes to the resident all go through the store's outbox, so nothing
acknowledged is lost when a chat is unreachable or the bot is killed.

- :mod:`reports.model`: the domain values (pydantic), pure.
- :mod:`reports.ports`: the :class:`~reports.ports.ReportStore` role the bot depends on, and the
  errors it raises.
- :mod:`reports.store`: the SQLAlchemy implementation (SQLite by default, PostgreSQL through
  ``DATABASE_URL``), with Alembic migrations in ``reports/migrations/``; :mod:`reports.rules`
  what each action does, :mod:`reports.tables` the tables, :mod:`reports.rows` rows to values,
  :mod:`reports.database` the engine and the schema lock.
- :mod:`reports.settings`: ``DATABASE_URL`` and the limits, read from the environment.
- :mod:`reports.cli`: the maintainer commands, ``python -m bot staff …`` and ``python -m bot
  reports …``.
"""
