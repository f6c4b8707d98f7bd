"""How long one sync task may work. A task starts no new page, download or embedding slice that
would end after DRIVE_TASK_SECONDS; what is in flight then may finish, never past the hard limit
(90% of the worker timeout), which also caps the waits between retries of a Google call."""
import time
from dataclasses import dataclass, field

from django.conf import settings

HARD_SHARE_OF_TIMEOUT = 0.9


@dataclass
class Budget:
    seconds: float
    hard_seconds: float
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def for_task(cls) -> "Budget":
        return cls(seconds=settings.DRIVE_TASK_SECONDS,
                   hard_seconds=HARD_SHARE_OF_TIMEOUT * settings.Q_CLUSTER["timeout"])

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return self.seconds - self.elapsed()

    def hard_left(self) -> float:
        return self.hard_seconds - self.elapsed()

    @property
    def hard_deadline(self) -> float:
        return self.started + self.hard_seconds
