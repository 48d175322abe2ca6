# Strata's container image (used by deploy/k8s):
#   docker build -t ghcr.io/strata-metrics/strata:dev .
# One binary for every component: pick one with -target=all|distributor|ingester|querier.
FROM node:20-bookworm-slim
WORKDIR /strata
RUN npm install -g pnpm@10.34.9 && useradd --system --uid 10001 --home /strata strata
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY proto ./proto
COPY packages ./packages
# Build with the dev dependencies (TypeScript), then reinstall the production ones only.
RUN pnpm install --frozen-lockfile \
 && pnpm run build \
 && rm -rf node_modules packages/*/node_modules \
 && CI=true pnpm install --frozen-lockfile --prod \
 && mkdir -p /data && chown strata /data
USER strata
ENV NODE_ENV=production
EXPOSE 8080 9095
VOLUME /data
ENTRYPOINT ["node", "packages/server/lib/main.js"]
CMD ["-target=all", "-blocks-storage.tsdb.dir=/data/tsdb", "-blocks-storage.filesystem.dir=/data/bucket"]
