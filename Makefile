# The README's commands. `make demo` and `make test` each create the virtual environment first.
VENV ?= .venv
PYTHON ?= python3
# CPU build where no CUDA is present; a CUDA machine may set TORCH to what it needs.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_INDEX ?= demo-index

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# resemblyzer also pulls the webrtcvad sdist, whose webrtcvad.py imports pkg_resources (gone
	# from setuptools); webrtcvad-wheels ships the same module without it: make its copy the one.
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall "webrtcvad-wheels==2.0.14.post1"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mmr index samples/footage --index $(DEMO_INDEX)
	$(BIN)/mmr search --index $(DEMO_INDEX) "the minister talks about flood defences" -k 3
	$(BIN)/mmr search --index $(DEMO_INDEX) "polls close at 10pm" -k 3
	$(BIN)/mmr search --index $(DEMO_INDEX) --audio samples/queries/where_was_the_fire.mp3 -k 3

test: $(STAMP)
	bash scripts/install_system_deps.sh
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check mmretrieval tests benchmarks samples

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/query.py
	$(BIN)/python benchmarks/index_bench.py
	$(BIN)/python benchmarks/retrieval.py offline

clean:
	rm -rf $(VENV) $(DEMO_INDEX)
