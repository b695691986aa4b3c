# Production image: gunicorn serving the API. Models and the FAISS index live in a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    APP_ENV=production

WORKDIR /srv/app

# The CPU build of torch first (the default wheel pulls several GB of CUDA libraries).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY app ./app
COPY ml ./ml
COPY scripts ./scripts
COPY data ./data
COPY run.py gunicorn.conf.py ./

RUN useradd --create-home --uid 10001 anime \
    && mkdir -p /srv/app/instance /srv/app/ml/saved_models \
    && chown -R anime /srv/app/instance /srv/app/ml/saved_models
USER anime

EXPOSE 5000
# Workers, port, timeouts and request limits: gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "run:app"]
