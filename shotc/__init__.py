"""shotc: compile `.shot` shot lists into kie.ai Kling 3.0 createTask requests.

This package must stay cheap to import: `check` and `build` load only the compiler stages,
never httpx or the run machinery.
"""

__version__ = "0.1.0"
