# One image for web, worker and beat; docker-compose.yml chooses the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .
# collectstatic needs settings, not secrets: a throwaway key for this step only.
RUN DEBUG=false SECRET_KEY=build-only OPT_OUT_HASH_KEY=build-only-too DJANGO_READ_DOT_ENV=false python manage.py collectstatic --no-input \
    && useradd --system --uid 10001 consultation && mkdir -p /app/var && chown -R consultation /app/var
USER consultation

EXPOSE 8000
CMD ["gunicorn", "consultation.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
