"""The offline chat: the real bot against a fake Bot API server, in a terminal (``--offline``).

Imported only when the chat runs (``bot.__main__`` imports it lazily) and by the tests.
"""
