# The portal image: web (gunicorn), worker and beat (Celery) all run from it; see docker-compose.yml.
FROM python:3.11-slim-bookworm

# The same Debian packages as scripts/debian-packages (PDF text layout, HarfBuzz-Subset, CJK font,
# gettext for the translations).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    fonts-noto-cjk gettext \
 && rm -rf /var/lib/apt/lists/*

# The project's environment is a virtualenv whose bin/ comes first on PATH, so the Procfile's commands
# (gunicorn, celery) and python are the project's own: scripts/stack.py does the same with .venv/bin
# outside Docker.
ENV VIRTUAL_ENV=/opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PORTAL_ENV=production
RUN python3 -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir -e .
COPY . .
# collectstatic and compilemessages need settings but no real secret or database.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build python manage.py collectstatic --no-input -v0 \
 && python manage.py compilemessages --ignore=.venv -v0 \
 && useradd --system --home /app portal && mkdir -p var && chown -R portal var
USER portal
EXPOSE 8000
CMD ["gunicorn", "transfer_portal.wsgi", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
