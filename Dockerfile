# syntax=docker/dockerfile:1
# financetracker production image.
#   build:  podman build --isolation=chroot --pull=never -t financetracker:dev .   (or docker build)
#   run:    gunicorn as PID 1, UID/GID 10001, read-only root filesystem; /tmp must be a writable volume.
# Stage 1 builds a virtualenv with the app and its pinned dependencies, collects static files and
# compiles bytecode. Stage 2 copies only the venv and the two entry files: no pip cache, no build
# tooling, no dev or embedded extras.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.lock pyproject.toml README.m[d] manage.py gunicorn.conf.py ./
COPY financetracker ./financetracker
COPY ledger ./ledger
COPY budgets ./budgets
COPY uploads ./uploads
# No extras: `embedded` and `dev` stay out of the image. pip and setuptools are removed from the runtime venv.
RUN pip install --no-cache-dir -c requirements.lock . \
 && pip uninstall --yes --quiet pip setuptools
# Static files are collected with throwaway settings: the real values only exist at run time.
COPY deploy/docker/migrate_with_lock.py ./
RUN mkdir -p /app \
 && cp manage.py gunicorn.conf.py migrate_with_lock.py /app/ \
 && DEBUG=0 SECRET_KEY=build-only DATABASE_URL=postgres://x@localhost/x STATIC_ROOT=/app/staticfiles \
    python /app/manage.py collectstatic --noinput --verbosity 0 \
 && python -m compileall -q -j 0 /opt/venv /app

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="financetracker" \
      org.opencontainers.image.description="Self-hosted personal and household finance tracker (Django)"
# HOME=/tmp: gunicorn puts its control socket under $HOME/.gunicorn, and /tmp is the writable volume.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    STATIC_ROOT=/app/staticfiles \
    UPLOADS_ROOT=/uploads \
    DJANGO_SETTINGS_MODULE=financetracker.settings
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app \
 && mkdir -p /uploads \
 && chown 10001:10001 /uploads
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "financetracker.wsgi:application"]
