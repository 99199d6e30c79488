# The two commands a new user types: `make book` and `make test`.
# PROFILE: smoke | cpu | full | auto    DEVICE: cpu | cuda | auto    ONLY: chapter names
PYTHON  ?= python3
PROFILE ?= auto
DEVICE  ?= auto
ONLY    ?=
JOBS    ?= 2
STAMP   := _build/.installed

.PHONY: book test install unit notebooks book-check data sync clean

# Install what is missing: the CPU torch wheel only where no torch is importable
# (Colab and GPU machines keep theirs), then the package with its dev tools.
$(STAMP): pyproject.toml
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install torch==2.13.0
	$(PYTHON) -m pip install -q -e '.[dev]'
	@mkdir -p $(dir $(STAMP)) && touch $(STAMP)

install: $(STAMP)

book: install
	$(PYTHON) -m seqlm run --profile $(PROFILE) --device $(DEVICE) $(if $(ONLY),--only $(ONLY))

# make test: unit tests, every notebook under nbval (smoke), the strict book build,
# then one line with the totals of all three.
REPORTS := _build/reports
test: install unit notebooks book-check
	@$(PYTHON) tests/summarize.py $(REPORTS)/unit.xml $(REPORTS)/notebooks.xml $(REPORTS)/book.xml

unit: install
	$(PYTHON) -m pytest tests/unit -q -n $(JOBS) --junitxml=$(REPORTS)/unit.xml

notebooks: install
	SEQLM_PROFILE=smoke SEQLM_DEVICE=cpu $(PYTHON) -m pytest --nbval-lax -q -n $(JOBS) \
		--dist loadscope --junitxml=$(REPORTS)/notebooks.xml notebooks/*.ipynb

book-check: install
	$(PYTHON) -m pytest tests/book -q --junitxml=$(REPORTS)/book.xml

data: install
	$(PYTHON) -m seqlm data --markdown

# After editing a chapter's .py twin: regenerate its .ipynb (outputs stay cleared).
sync:
	$(PYTHON) -m jupytext --sync notebooks/*.ipynb

clean:
	rm -rf _build
