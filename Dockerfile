# Deal Desk GraphQL gateway: slim, non-root (10001:10001), production defaults, serving on port 8000.
#   docker build -t deal-desk .                                  SQLite and PostgreSQL (requirements/serve.txt)
#   docker build --build-arg REQUIREMENTS=databricks -t ...      plus the [databricks] extra, without pyarrow
# Dependencies come from the lock files (with hashes) that scripts/lock writes, so every build is the same.
# GraphiQL's assets: npm's graphiql, react and react-dom (package.json's dependencies), served by the gateway.
FROM node:20-slim AS graphiql
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim AS build
ARG REQUIREMENTS=serve
WORKDIR /src
COPY requirements ./requirements
RUN python -m venv /opt/deal-desk \
 && /opt/deal-desk/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/${REQUIREMENTS}.txt
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY auth ./auth
COPY loaders ./loaders
COPY resolvers ./resolvers
RUN /opt/deal-desk/bin/pip install --no-cache-dir --no-deps . && /opt/deal-desk/bin/pip uninstall -y pip

FROM python:3.11-slim
RUN groupadd --system --gid 10001 dealdesk \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --create-home dealdesk
COPY --from=build /opt/deal-desk /opt/deal-desk
COPY --from=graphiql /src/node_modules/graphiql /opt/graphiql/node_modules/graphiql
COPY --from=graphiql /src/node_modules/react /opt/graphiql/node_modules/react
COPY --from=graphiql /src/node_modules/react-dom /opt/graphiql/node_modules/react-dom
# Production: dev auth refused (set DEAL_DESK_AUTH_ISSUER), GraphiQL and introspection off.
ENV PATH=/opt/deal-desk/bin:$PATH \
    DEAL_DESK_ENV=production \
    DEAL_DESK_DATABASE_URL=sqlite:////data/deal_desk.db \
    DEAL_DESK_GRAPHIQL_ASSETS_DIR=/opt/graphiql/node_modules \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["deal-desk", "serve", "--host", "0.0.0.0", "--port", "8000"]
