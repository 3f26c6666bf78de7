# The gateway image: one process serving HTTP (webhooks, consent pages, console) and SMTP.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 INTAKE_DATA_DIR=/var/lib/intake
WORKDIR /app
COPY pyproject.toml README.md ./
COPY intake ./intake
COPY nlp ./nlp
COPY storage ./storage
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/intake intake \
    && mkdir -p /var/lib/intake && chown intake /var/lib/intake
USER intake
EXPOSE 8080 2525
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
CMD ["intake", "serve"]
