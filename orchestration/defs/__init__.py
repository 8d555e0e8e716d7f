"""One folder per domain; `orchestration.definitions` loads them all."""
