# Two commands a newcomer needs: `make run` and `make test`. Both set everything up on first
# use (two virtual environments, the trained model) and skip what is already up to date.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
MODEL := models/onramp.tar.gz
TRAINING_FILES := $(shell find data bot/assistant -type f -name '*.yml' 2>/dev/null) bot/assistant/tokenizer.py bot/assistant/intent_classifier.py

# Python >= 3.11 for the app; exactly 3.10 for Rasa 3.6 (it does not run on newer Pythons).
PYTHON_APP ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
PYTHON_RASA ?= $(shell for p in $$(command -v python3.10) $$(ls -d $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 2>/dev/null); do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: help setup run test bench clean distclean

help:
	@echo "make run   - set up on first use, then start rasa, actions, api and worker"
	@echo "make test  - set up on first use, then run the whole test suite"
	@echo "make clean - remove the trained models (and caches); distclean also the virtual environments"
	@echo "make bench - assignment of 100,000 volunteers; webhook latency while Rasa is saturated; full path vs bare Rasa; outbox dispatch; the persona suite"

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON_APP)" || { echo "Onramp needs Python 3.11 or newer: install it (e.g. 'pyenv install 3.11' or your OS package) and run make again."; exit 1; }
	$(PYTHON_APP) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	@touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt requirements-rasa.lock
	@test -n "$(PYTHON_RASA)" || { echo "Rasa 3.6 needs Python 3.10, and none was found on PATH or under ~/.pyenv. Install it (e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv') and run make again."; exit 1; }
	$(PYTHON_RASA) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet --upgrade pip
	$(RASA_VENV)/bin/pip install --quiet -r requirements-rasa.txt -c requirements-rasa.lock
	@touch $@

# Retrained only when the training data, domain or config changed.
$(MODEL): $(RASA_VENV)/.installed $(TRAINING_FILES)
	@echo "training the Rasa model (about a minute)..."
	$(RASA_VENV)/bin/rasa train --domain bot/assistant/domain.yml --config bot/assistant/config.yml \
		--data data --out models --fixed-model-name onramp
	@touch $@

setup: $(VENV)/.installed $(RASA_VENV)/.installed $(MODEL)

run: setup
	$(VENV)/bin/onramp run

test: setup
	$(VENV)/bin/onramp catalogs check
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	@echo "== the clock guard: tests that pin dates, again on a clock 400 days ahead, on both cores (README, Tests)"
	$(VENV)/bin/pytest -q -p no:cacheprovider -n 2 -m pins_dates -k "not postgresql" --clock-ahead 400

# The trained models and caches only: the database under var/ holds campaign data and stays.
clean:
	rm -f models/*.tar.gz
	rm -rf .pytest_cache .rasa
	find . -name __pycache__ -type d -not -path './.venv*' -prune -exec rm -rf {} +

# Also the two virtual environments (the next make sets them up again).
distclean: clean
	rm -rf $(VENV) $(RASA_VENV)

bench: setup
	@echo "== assignment of 100,000 synthetic volunteers"
	$(VENV)/bin/python -m bench.assign
	@echo "== webhook acknowledgement latency while Rasa is saturated"
	$(VENV)/bin/python -m bench.webhooks
	@echo "== the full path against bare Rasa: 200 new conversations, then 100 whole five-turn sign-ups, 20 at a time"
	$(VENV)/bin/python -m bench.fullstack
	@echo "== outbox dispatch: 10,000 due SMS rows through the Twilio adapter to the Twilio fake (SQLite; PostgreSQL with 1 and 2 workers)"
	$(VENV)/bin/python -m bench.outbox
	@echo "== reliability: 500 messages across 100 contacts with faults injected (poison row, stall, 503 mid-SMS, Redis down, kill -9)"
	$(VENV)/bin/python -m bench.faults
	@echo "== the persona suite: 136 scripted supporters through the real stack (tests/personas)"
	$(VENV)/bin/onramp personas run
	@echo "== the blind persona rounds (tests/personas/rounds): their rates now (the first-contact figures are in docs/benchmarks.md)"
	-$(VENV)/bin/onramp personas run $(foreach r,$(sort $(wildcard tests/personas/rounds/round-*.yml)),--round $(r))
	@echo "== natural opt-outs: revocation sets 1 (built against) and 2 (measured once, after the work): missed and false stops per language"
	-$(VENV)/bin/python -m bot.revocation_eval eval/revocation/set1.yml
	-$(VENV)/bin/python -m bot.revocation_eval eval/revocation/set2.yml
