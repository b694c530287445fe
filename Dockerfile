# The port-roi-action image: one static Go binary on an empty base, plus the CA certificates it needs to reach
# Port over HTTPS. .github/workflows/release.yml builds it for linux/amd64 and linux/arm64 and pushes it to GHCR;
# action.yml runs that prebuilt image. Needs BuildKit (the default builder since Docker 23).

# The builder runs on the build machine's own platform and cross-compiles for the target: no CPU emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
# The release version, set by release.yml from the git tag; "dev" for local builds.
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
# The same flags as internal/packaging's empty-root test: static (no cgo), reproducible paths, no symbol table.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X github.com/port-roi/port-roi-action/internal/cli.Version=${VERSION}" \
    -o /out/port-roi-action ./cmd/port-roi-action

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/port-roi-action /port-roi-action
# No USER and no WORKDIR: GitHub runs docker actions as root in /github/workspace, and only root can write the
# bind-mounted $GITHUB_OUTPUT and job summary files
# (https://docs.github.com/en/actions/creating-actions/dockerfile-support-for-github-actions).
ENTRYPOINT ["/port-roi-action"]
