# Deal Desk GraphQL gateway: slim, non-root, serving on port 8000.
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
ENV DEAL_DESK_DATABASE_URL=sqlite:////data/deal_desk.db \
    PYTHONUNBUFFERED=1
USER dealdesk
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["deal-desk", "serve", "--host", "0.0.0.0", "--port", "8000"]
