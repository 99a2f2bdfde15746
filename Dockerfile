# syntax=docker/dockerfile:1
#
# mcroute container image: one static binary on distroless, running as the
# distroless "nonroot" user (uid/gid 65532).
#
#   docker build -t mcroute:dev --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -v $PWD/examples/basic:/etc/mcroute:ro -p 5000:5000 -p 9100:9100 mcroute:dev
#
# Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 .
# (the builder cross-compiles; nothing runs under emulation).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Dependencies first, so source edits do not invalidate the module cache layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH
ARG VERSION=devel
# Static (no cgo: the Go resolver and no libc), reproducible paths, no
# symbol tables; the version is what "mcroute version" and __mcrouter__.version report.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" -o /out/mcroute ./cmd/mcroute

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mcroute /mcroute
USER nonroot:nonroot
# 5000: memcached protocol (mcrouter's customary port); 9100: /metrics and /healthz.
EXPOSE 5000 9100
ENTRYPOINT ["/mcroute"]
# The policy is expected at /etc/mcroute/policy.cue (mount a ConfigMap there;
# for an mcrouter JSON config pass --config /etc/mcroute/config.json).
CMD ["serve", "--config", "/etc/mcroute/policy.cue", "--listen", "0.0.0.0:5000", "--metrics-listen", "0.0.0.0:9100"]
