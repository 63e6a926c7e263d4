# Google Cloud runtime (issue #7): adapter, job and end-to-end tests on local emulators, loopback Cloud Run, Postgres.
.PHONY: test-gcp

## test-gcp: GCS/Pub/Sub emulators, fake Cloud Run Admin API, Postgres on 127.0.0.1:5432 (skips with reasons if absent)
test-gcp: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/gcp tests/integration/test_repositories_contract.py
