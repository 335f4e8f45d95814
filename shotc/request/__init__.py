"""The request: emit (resolved scene to createTask dict), the JSON Schema and its fast
validator, and the Kling rules."""
