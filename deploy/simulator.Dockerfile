# stagebeam's vLLM simulator (services/vllm-sim), for demos and tests without GPUs: compose's sim-1/sim-2 and the
# cpu-demo overlay's vLLM pods. Built by deploy/build-image.sh from its own context (deploy/context-files.ts
# simulator); NODE_IMAGE as for the gateway's image (deploy/Dockerfile).
ARG NODE_IMAGE=node:24-bookworm-slim
FROM ${NODE_IMAGE}
ARG VERSION=0.0.0
LABEL org.opencontainers.image.title="stagebeam vllm-sim" org.opencontainers.image.version="${VERSION}"
WORKDIR /app
USER node
ENTRYPOINT ["node", "services/vllm-sim/bin/vllm-sim.js"]
COPY . /app
