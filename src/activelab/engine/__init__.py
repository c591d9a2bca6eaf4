"""The engine every face drives: the model table, the run records, the argument checks and
the :class:`Session` whose short steps make up an active-learning run.

Nothing in ``engine/`` knows that a command line, a web app or Label Studio exists.
"""
