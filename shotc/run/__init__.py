"""The run stage: everything `plan`, `run`, `status` and `credits` need beyond the compiler.

kie.ai client, ledger, limiter, uploads, downloads and the orchestrator live here. Nothing in
this package is imported by `check` or `build`, which must stay free of httpx.
"""
