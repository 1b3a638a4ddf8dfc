# syntax=docker/dockerfile:1
# authstack-operator: the AuthStack Kubernetes operator (AuthStackInstance controller)
#
# Build from the repository root (the Cargo workspace is the build context):
#   docker build -f images/authstack-operator.Dockerfile -t ghcr.io/authstack/authstack-operator:dev .
#
# checkov:skip=CKV_DOCKER_2:distroless has no shell or HTTP client for a HEALTHCHECK; the chart's Kubernetes probes cover /healthz and /readyz on the metrics port.

FROM rust:1.95-bookworm AS builder
WORKDIR /build
# The whole workspace: Cargo resolves every member even when building one package.
COPY Cargo.toml Cargo.lock ./
COPY instance ./instance
COPY control-plane ./control-plane
COPY operator ./operator
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/build/target,sharing=locked \
    cargo build --locked --release -p authstack-operator --bin authstack-operator \
    && install -D -m 0755 target/release/authstack-operator /out/authstack-operator

# cc: glibc, libgcc, CA certificates and tzdata, matching the bookworm builder; nonroot: UID 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="authstack-operator" \
      org.opencontainers.image.description="the AuthStack Kubernetes operator (AuthStackInstance controller)" \
      org.opencontainers.image.source="https://github.com/authstack/authstack" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="AuthStack" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=builder --chown=0:0 /out/authstack-operator /usr/local/bin/authstack-operator
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/authstack-operator"]
