# The two commands a new user types: `make book` and `make test`.
# PROFILE: smoke | cpu | full | auto    DEVICE: cpu | cuda | auto    ONLY: chapter names
# BOOK_JOBS: chapters executed at once by `make book` (each in its own kernel)
PYTHON  ?= python3
PROFILE ?= auto
DEVICE  ?= auto
ONLY    ?=
JOBS    ?= 2
BOOK_JOBS ?= 1
STAMP   := _build/.installed

.PHONY: book test colab-lane tests-lane install unit notebooks book-check assignments-check install-check assignments grade data sync clean

# Install what is missing: the CPU torch wheel only where no torch is importable
# (Colab and GPU machines keep theirs), then this checkout's package with its dev
# tools, again whenever pyproject.toml changed or seqlm imports from another clone.
FROM_HERE := import seqlm, sys; sys.exit(not seqlm.__file__.startswith("$(CURDIR)/src/"))

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install torch==2.13.0
	@if [ ! $(STAMP) -nt pyproject.toml ] || ! $(PYTHON) -c '$(FROM_HERE)' 2>/dev/null; then \
		$(PYTHON) -m pip install -q -e '.[dev]' && mkdir -p $(dir $(STAMP)) && touch $(STAMP); \
	fi

book: install
	$(PYTHON) -m seqlm run --profile $(PROFILE) --device $(DEVICE) --jobs $(BOOK_JOBS) $(if $(ONLY),--only $(ONLY))

# make test: unit tests, every notebook under nbval (smoke), the assignments round trip,
# every chapter in a fresh venv installed as Colab installs it, and the strict book
# build from those executed chapters, then one line with the totals of them all. Two
# lanes run side by side (the Colab install then the book | unit, nbval, assignments);
# every process of them shares the cores (seqlm.config.worker_environment).
REPORTS  := _build/reports
STAGES   := unit notebooks book assignments install
CI_BUILD := $(CURDIR)/_build/ci
test: install
	@rm -rf $(REPORTS) $(CI_BUILD)
	@$(MAKE) --no-print-directory -k -j2 --output-sync=target colab-lane tests-lane; \
	status=$$?; $(PYTHON) tests/summarize.py $(STAGES:%=$(REPORTS)/%.xml) && exit $$status

colab-lane: install
	@export SEQLM_CI_BUILD=$(CI_BUILD); $(MAKE) --no-print-directory install-check; a=$$?; \
	$(MAKE) --no-print-directory book-check; b=$$?; exit $$((a || b))

tests-lane: install
	@$(MAKE) --no-print-directory unit; a=$$?; $(MAKE) --no-print-directory notebooks; b=$$?; \
	$(MAKE) --no-print-directory assignments-check; c=$$?; exit $$((a || b || c))

unit: install
	$(PYTHON) -m pytest tests/unit -q -n $(JOBS) --junitxml=$(REPORTS)/unit.xml

notebooks: install
	SEQLM_PROFILE=smoke SEQLM_DEVICE=cpu $(PYTHON) -m pytest --nbval-lax -q -n $(JOBS) \
		--dist loadscope --junitxml=$(REPORTS)/notebooks.xml notebooks/*.ipynb

book-check: install
	$(PYTHON) -m pytest tests/book -q --junitxml=$(REPORTS)/book.xml

assignments-check: install
	$(PYTHON) -m pytest tests/assignments -q --junitxml=$(REPORTS)/assignments.xml

install-check: install
	$(PYTHON) -m pytest tests/install -q --junitxml=$(REPORTS)/install.xml

# The student version of every assignment of SOURCE (public ones by default; a private
# folder of your own variants works the same), into assignments/release/.
SOURCE ?= assignments/source
assignments: install
	$(PYTHON) assignments/course.py release --source "$(SOURCE)"

# Grade SUBMISSIONS/<student>/<assignment>/*.ipynb, each notebook in a bubblewrap sandbox,
# JOBS of them at once (each with cores ÷ JOBS threads), into GRADES/grades.csv, reports/
# and feedback/.
GRADES ?= _build/grades
grade: install
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder> [JOBS=<n>] [SOURCE=<folder>] [GRADES=<folder>]"; exit 2; }
	$(PYTHON) assignments/course.py grade "$(SUBMISSIONS)" --source "$(SOURCE)" --out "$(GRADES)" --jobs $(JOBS)

data: install
	$(PYTHON) -m seqlm data --markdown

# After editing a chapter's .py twin: regenerate its .ipynb (outputs stay cleared).
sync:
	$(PYTHON) -m jupytext --sync notebooks/*.ipynb assignments/source/*/[0-9]*.ipynb

clean:
	rm -rf _build
