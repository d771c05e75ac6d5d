"""Work longer than a request (imports, syncs, PDF reports, digests, reminders) as jobs run by
the worker process (``mapapp worker``), never by a web worker: ``queue`` enqueues them and keeps
their visible state, ``worker`` runs them."""
