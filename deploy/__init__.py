"""The whole Noziri topology on one machine: replicas, database, HAProxy, bot workers.

``python -m deploy up`` for demos, :func:`deploy.launch.launch` for tests and benches; the notes
for real machines are in docs/deployment.md and the systemd units in ``deploy/systemd/``.
"""
