"""Running Meilisearch for every command: install, embedded server, endpoints and keys on disk.

::

    settings.py    MeiliSettings: where Meilisearch is and how to reach it (env, .env)
    install.py     the pinned binary: MEILI_BINARY or installed (python -m search_platform.install)
    server.py      the embedded server: start or reuse, share between processes (leases), stop
                   (python -m search_platform.server)
    process.py     the Meilisearch process: free loopback port, spawn, health, stop
    files.py       the data directory, private (0600) key files, the server's config
    connection.py  admin and search endpoints, the search key saved on disk

Used by the resolver and the bot (search role) and by the index builder (admin role). Nothing here
knows about places: the resolver's search adapter (resolver.meili) sits on top of an Endpoint.
"""
