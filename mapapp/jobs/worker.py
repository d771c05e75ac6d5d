"""The worker: huey's consumer over the queue, with a heartbeat so that the pages can say when
it is not running. ``mapapp worker`` runs it; tests start it in a thread."""

from __future__ import annotations

import threading

from huey.consumer import Consumer

from .queue import HEARTBEAT_SECONDS, Jobs

# Workers poll the queue at most this many seconds apart when it is empty (a cheap SQLite read):
# a job waits about that long before it starts.
MAX_POLL = 1.0


class _Consumer(Consumer):
    started = None  # called once the workers are started (forked)

    def start(self):
        super().start()
        if self.started:
            self.started()

    def _set_signal_handlers(self):
        # Signals can be caught in the main thread only; a worker started in another thread
        # (the tests') is stopped with ``stop``.
        if threading.current_thread() is threading.main_thread():
            super()._set_signal_handlers()


class Worker:
    """A running consumer with its heartbeat."""

    def __init__(self, jobs: Jobs, *, workers: int = 2, worker_type: str = "thread"):
        self.jobs = jobs
        # Periodic tasks always run: retention every hour, the mail when MAPAPP_JOBS_DAILY_AT says.
        self.consumer = _Consumer(jobs.huey, workers=workers, worker_type=worker_type, periodic=True,
                                  max_delay=MAX_POLL, check_worker_health=True)
        self._stopped = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="jobs-heartbeat", daemon=True)

    def _heartbeat(self) -> None:
        while True:
            self.jobs.heartbeat()
            if self._stopped.wait(HEARTBEAT_SECONDS):
                return

    def run(self) -> None:
        """Run until stopped by SIGINT (finishing the jobs that run) or SIGTERM."""
        # The heartbeat's thread starts after the worker processes are forked: a child forked
        # while it wrote would inherit its locks held.
        self.consumer.started = self._beat.start
        try:
            self.consumer.run()
        finally:
            self._stopped.set()

    def start(self) -> Worker:
        """Start without blocking (in a thread of this process); ``stop`` ends it."""
        self.consumer.started = self._beat.start
        self.consumer.start()
        return self

    def stop(self) -> None:
        """Stop taking jobs, wait for those running, stop the heartbeat."""
        self.consumer.stop(graceful=True)
        self._stopped.set()
        self._beat.join(5)
