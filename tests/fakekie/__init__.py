"""Test support: a fake kie.ai server for the run stage's tests and benchmark."""

from fakekie.server import CreateRecord, FakeKie, Task, clip_bytes

__all__ = ["CreateRecord", "FakeKie", "Task", "clip_bytes"]
