# Deal Desk GraphQL gateway: slim, non-root, serving on port 8000.
# GraphiQL's assets: npm's graphiql, react and react-dom (package.json's dependencies), served by the gateway.
FROM node:20-slim AS graphiql
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY auth ./auth
COPY loaders ./loaders
COPY resolvers ./resolvers
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --create-home dealdesk
COPY --from=build /install /usr/local
COPY --from=graphiql /src/node_modules/graphiql /opt/deal-desk/node_modules/graphiql
COPY --from=graphiql /src/node_modules/react /opt/deal-desk/node_modules/react
COPY --from=graphiql /src/node_modules/react-dom /opt/deal-desk/node_modules/react-dom
ENV DEAL_DESK_DATABASE_URL=sqlite:////data/deal_desk.db \
    DEAL_DESK_GRAPHIQL_ASSETS_DIR=/opt/deal-desk/node_modules \
    PYTHONUNBUFFERED=1
USER dealdesk
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["deal-desk", "serve", "--host", "0.0.0.0", "--port", "8000"]
