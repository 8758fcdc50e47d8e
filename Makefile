# The two commands a new machine needs:  make packs  (build every pack)  and  make test.
VENV ?= .venv
STAMP := $(VENV)/.installed

.PHONY: packs test lint clean

$(STAMP): pyproject.toml scripts/setup.sh
	VENV=$(VENV) scripts/setup.sh
	touch $(STAMP)

packs: $(STAMP)
	$(VENV)/bin/briefgen build

test: $(STAMP)
	$(VENV)/bin/ruff check briefgen tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest -q -n auto

clean:
	rm -rf output
