# Two entry points for a fresh machine: `make demo` and `make test` (what CI runs).
PY      ?= python3
VENV    ?= .venv
VENV38  ?= .venv38
PIP_Q   ?= -q
ARGS    ?=

.PHONY: demo test test-main test-edge38 lint broker mpd avr clean

$(VENV)/.demo-installed: pyproject.toml setup.py
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_Q) -U pip
	$(VENV)/bin/pip install $(PIP_Q) -e '.[demo,audio]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml setup.py
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_Q) -U pip
	$(VENV)/bin/pip install $(PIP_Q) -e '.[demo,audio,serial,lsl,replay,train,server,mpd,dev]'
	touch $@ $(VENV)/.demo-installed

# The main job on embedded defaults: offline, no hardware, embedded broker.
demo: $(VENV)/.demo-installed
	$(VENV)/bin/cardiotune demo $(ARGS)

# Everything CI checks: lint, the full suite on 3.11 against a real Mosquitto,
# and the edge + firmware_bridge suites on Python 3.8 (classic Jetson Nano).
test: lint test-main test-edge38

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .

broker:
	bash tools/ensure_mosquitto.sh

mpd:
	bash tools/ensure_mpd.sh

avr:
	bash tools/ensure_avr.sh

test-main: $(VENV)/.dev-installed broker mpd avr
	$(VENV)/bin/python -m pytest

$(VENV38)/.installed: pyproject.toml setup.py
	bash tools/make_py38_venv.sh $(VENV38)
	touch $@

test-edge38: $(VENV38)/.installed broker mpd
	$(VENV38)/bin/python -m pytest -m "not train" $(wildcard tests/edge tests/firmware_bridge tests/cardiotune)

clean:
	rm -rf $(VENV) $(VENV38) build *.egg-info
