# wsproxy image: build with the same commands CI runs (npm ci, npm run build), ship only what runs.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# tini as PID 1 forwards SIGTERM/SIGINT so `docker stop` drains sessions (and reaps zombies).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# Second line only: wsproxy reads targets into pooled buffers (src/relay/read-pool.ts), which is the fix for the heap
# trimming that made downloads swing (issue #14). These keep glibc from trimming what other allocations free.
ENV GLIBC_TUNABLES=glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=67108864
COPY --from=build /app/package.json /app/LICENSE /app/README.md ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/web ./web
COPY --from=build /app/scripts ./scripts
RUN chmod 0755 dist/src/main.js \
 && ln -s /app/dist/src/main.js /usr/local/bin/wsproxy \
 && mkdir -p /certs && chown node:node /certs
USER node
VOLUME ["/certs"]
WORKDIR /certs
EXPOSE 6080
ENV WSPROXY_HEALTH_PORT=6080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const s=require('net').connect(+process.env.WSPROXY_HEALTH_PORT,'127.0.0.1');s.on('connect',()=>{s.destroy();process.exit(0)});s.on('error',()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "wsproxy"]
CMD ["--help"]
