# syntax=docker/dockerfile:1
# One image for every service and role (docker-compose.yml and charts/revisit choose the
# command):
#   web:        gunicorn -c python:revisit_runner.gunicorn_conf 'revisit_runner.web:app("customer")'
#   worker:     python -m revisit_runner.worker --metrics-port 9100 customer
#               (python -m revisit_runner.worker customer, plus /metrics on port 9100)
#   migrations: python -m revisit_runner.migrate all
# Runs as uid 10001 with a read-only root filesystem: only /tmp needs to be writable
# (gunicorn's PROMETHEUS_MULTIPROC_DIR defaults to /tmp/prometheus).

FROM python:3.11.9-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/revisit
WORKDIR /src
COPY pyproject.toml ./
COPY libs ./libs
COPY services ./services
RUN /opt/revisit/bin/pip install --no-cache-dir . \
    && /opt/revisit/bin/python -m compileall -q /opt/revisit/lib

FROM python:3.11.9-slim-bookworm
LABEL org.opencontainers.image.title="revisit" \
      org.opencontainers.image.description="revisit services: gateway, customer, visit, complaint, survey, kpi, notify"
RUN groupadd --system --gid 10001 revisit \
    && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
       --shell /usr/sbin/nologin revisit
COPY --from=build /opt/revisit /opt/revisit
ENV PATH=/opt/revisit/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
WORKDIR /app
USER 10001:10001
EXPOSE 8000 9100
CMD ["gunicorn", "--config", "python:revisit_runner.gunicorn_conf", "revisit_runner.web:app(\"gateway\")"]
