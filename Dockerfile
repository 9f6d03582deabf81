# Clearframe service image, in two stages. The first compiles src/ to dist/ (tsc, which needs the dev
# dependencies); the second holds the production dependencies and the build only: no TypeScript
# sources, no tsx, no dev dependencies. .ci/dist-smoke.mjs reproduces the second stage without Docker.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# tools/ holds the cbor-extract stand-in that package.json's overrides point at: npm ci needs it.
COPY tools ./tools
# No install scripts: the build runs tsc and a node script, and none of the scripts (esbuild's,
# testcontainers' native ssh2 helpers) is needed for that.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
# HOST=0.0.0.0 listens beyond the container, so PUBLIC_URL is required and has no default here: give
# the URL clients reach the service at, `docker run -e PUBLIC_URL=https://ledger.example ...`. It names
# every checkpoint origin, clearance issuer and manifest; start-up refuses to run without it.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/clearframe
WORKDIR /app
COPY package.json package-lock.json ./
COPY tools ./tools
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
COPY policies ./policies
RUN mkdir -p /var/lib/clearframe && chown node:node /var/lib/clearframe
USER node
VOLUME ["/var/lib/clearframe"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# `docker run IMAGE keys init`, `... token issue ...`: the arguments after the image are the command's.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
