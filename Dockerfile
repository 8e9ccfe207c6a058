# Airbranch: one static binary, configs beside it, running as a non-root user.
# Build: docker build -t airbranch .
# Run:   docker run -p 8080:8080 -p 5060:5060/udp -p 5060:5060/tcp -e AIRBRANCH_JWT_SECRET=... airbranch

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/airbranch ./cmd/airbranch

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/airbranch /usr/local/bin/airbranch
COPY --chown=nonroot:nonroot configs/airbranch.yaml /etc/airbranch/airbranch.yaml
COPY --chown=nonroot:nonroot configs/demo/ /etc/airbranch/demo/
USER nonroot:nonroot
# HTTP (API, webhooks, WebSockets, consoles); SIP (UDP and TCP) and the RTP range are
# for the voice adapter.
EXPOSE 8080/tcp 5060/udp 5060/tcp 10000-10999/udp
ENTRYPOINT ["/usr/local/bin/airbranch"]
CMD ["serve", "-config", "/etc/airbranch/airbranch.yaml"]
