# Clearframe service image. Runs the TypeScript sources through tsx (no separate build step).
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/clearframe
WORKDIR /app
COPY package.json package-lock.json ./
COPY tools ./tools
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY policies ./policies
RUN mkdir -p /var/lib/clearframe && chown node:node /var/lib/clearframe
USER node
VOLUME ["/var/lib/clearframe"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/clearframe.js"]
CMD ["serve"]
