## bench-search: search figures (query p95 at 100k chunks, indexing chunks/s, recall@5) as JSON
.PHONY: bench-search test-search
bench-search: setup
	$(BIN)/python -m bench.search_bench

## test-search: the search tests only
test-search: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/search
