import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Gateway, GRPCRoute, HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1"
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1"
import { CONFIG_FILE_VARIABLE, ENVIRONMENT } from "@stagebeam/gateway/environment"
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1"
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2"
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1"
import { PodDisruptionBudget } from "kubernetes-models/policy/v1"
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from "kubernetes-models/v1"
import { parse } from "yaml"
import { finder, type Manifest, render } from "./kustomize.ts"

const repo = join(import.meta.dirname, "../..")
const read = (path: string) => readFileSync(join(repo, path), "utf8")

/** The environment variables the gateway reads, derived from its settings schema. */
const gatewaySettings = new Set([CONFIG_FILE_VARIABLE, ...ENVIRONMENT.map((entry) => entry.variable)])

/** The version the images are tagged with: the gateway's package version. */
const version = JSON.parse(read("services/gateway/package.json")).version as string

/** The kubernetes-models class that validates each kind used here against its OpenAPI schema. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "networking.k8s.io/v1/Ingress": Ingress,
  "gateway.networking.k8s.io/v1/Gateway": Gateway,
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute,
  "gateway.networking.k8s.io/v1/GRPCRoute": GRPCRoute,
  "v1/Service": Service,
  "monitoring.coreos.com/v1/PodMonitor": PodMonitor,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
}

const validate = (manifest: Manifest) => {
  const Model = models[`${manifest.apiVersion}/${manifest.kind}`]
  if (Model === undefined) throw new Error(`no model for ${manifest.apiVersion} ${manifest.kind}`)
  new Model(manifest as never).validate()
}

const overlays = { gpu: render("gpu"), "cpu-demo": render("cpu-demo") }
const BASE = [
  "Service/vllm",
  "StatefulSet/vllm",
  "ConfigMap/stagebeam-gateway",
  "Deployment/stagebeam-gateway",
  "PodDisruptionBudget/stagebeam-gateway",
  "Service/stagebeam-gateway",
  "Service/stagebeam-gateway-peers",
  "HorizontalPodAutoscaler/stagebeam-gateway",
  "ConfigMap/stagebeam-gateway-settings",
  "NetworkPolicy/stagebeam-gateway",
  "NetworkPolicy/vllm",
  "Secret/stagebeam-tokens",
  "Secret/stagebeam-upstream",
  "Secret/stagebeam-tls",
  "Ingress/stagebeam-gateway",
  "Gateway/stagebeam",
  "HTTPRoute/stagebeam-gateway",
  "GRPCRoute/stagebeam-gateway",
]

describe.each(Object.entries(overlays))("Kubernetes overlay %s (kustomize build)", (overlay, manifests) => {
  const find = finder(manifests)

  it("each object validates against its Kubernetes schema", () => {
    assert.sameMembers(
      manifests.map((m) => `${m.kind}/${m.metadata.name}`),
      overlay === "gpu"
        ? [
            ...BASE,
            "ServiceMonitor/stagebeam-gateway",
            "PodMonitor/vllm",
            "PrometheusRule/stagebeam-gateway",
            "ConfigMap/stagebeam-dashboard",
            "PersistentVolumeClaim/vllm-weights",
          ]
        : BASE,
    )
    for (const manifest of manifests) validate(manifest)
  })

  it("the validator refuses a malformed object", () => {
    const deployment = find("Deployment", "stagebeam-gateway")
    assert.throws(() => validate({ ...deployment, spec: { ...deployment.spec, replicas: "two" } }), /replicas/)
  })

  it("the gateway finds the vLLM pods through the headless Service, and reads only settings it knows", () => {
    const gateway = find("Deployment", "stagebeam-gateway")
    const container = gateway.spec.template.spec.containers[0]
    const config = find("ConfigMap", container.envFrom[0].configMapRef.name)
    const names = [...Object.keys(config.data), ...(container.env ?? []).map((e: { name: string }) => e.name)]
    // glibc's, not the gateway's: native memory returned after an image burst (bench/image.ts part 3).
    const runtime = new Set(["MALLOC_MMAP_THRESHOLD_"])
    for (const name of names.filter((name) => !runtime.has(name)))
      assert.isTrue(gatewaySettings.has(name), `${name} is not read by the gateway`)

    const vllm = find("StatefulSet", "vllm")
    const service = find("Service", vllm.spec.serviceName)
    assert.strictEqual(service.spec.clusterIP, "None")
    assert.deepStrictEqual(service.spec.selector, vllm.spec.selector.matchLabels)
    assert.strictEqual(config.data.STAGEBEAM_DISCOVERY_DNS, `${service.metadata.name}:${service.spec.ports[0].port}`)
    assert.notProperty(config.data, "STAGEBEAM_ENDPOINTS") // no list to keep in step with the pods
    const serverPort = vllm.spec.template.spec.containers[0].ports.find(
      (p: { name: string }) => p.name === service.spec.ports[0].targetPort,
    )
    assert.strictEqual(serverPort.containerPort, service.spec.ports[0].port)
    assert.strictEqual(config.data.STAGEBEAM_MAX_SAMPLES_PER_REQUEST, "16") // vLLM's --max-num-seqs
    // Each replica admits its share of the fleet: the peers are the gateway pods, one address each.
    const peers = find("Service", config.data.STAGEBEAM_ADMISSION_PEERS_DNS.split(":")[0])
    assert.strictEqual(peers.spec.clusterIP, "None")
    assert.deepStrictEqual(peers.spec.selector, gateway.spec.selector.matchLabels)
    assert.strictEqual(config.data.STAGEBEAM_ADMISSION_PEERS_DNS, `${peers.metadata.name}:${peers.spec.ports[0].port}`)
  })

  it("the gateway's drain fits the pod's grace period, after its preStop", () => {
    const pod = find("Deployment", "stagebeam-gateway").spec.template.spec
    const container = pod.containers[0]
    const config = find("ConfigMap", container.envFrom[0].configMapRef.name)
    const drainSeconds = Number(/^(\d+)s$/.exec(config.data.STAGEBEAM_DRAIN_TIMEOUT)?.[1])
    const preStopSeconds = container.lifecycle.preStop.sleep.seconds
    // One more second for the server's own stop after the drain, and a margin before the kubelet's SIGKILL.
    assert.isAtMost(preStopSeconds + drainSeconds + 1, pod.terminationGracePeriodSeconds - 2)
    assert.isAtLeast(drainSeconds, 30)
  })

  it("the gateway scales 2+ replicas by its autoscaler, ready by gRPC health, with a PDB, a Service and metrics", () => {
    const gateway = find("Deployment", "stagebeam-gateway")
    const pod = gateway.spec.template
    const container = pod.spec.containers[0]
    const config = find("ConfigMap", container.envFrom[0].configMapRef.name)
    const grpcPort = Number(config.data.STAGEBEAM_GRPC_PORT)
    const metricsPort = Number(config.data.STAGEBEAM_METRICS_PORT)
    const httpPort = Number(config.data.STAGEBEAM_HTTP_PORT)
    const hpa = find("HorizontalPodAutoscaler", "stagebeam-gateway")
    assert.deepStrictEqual(hpa.spec.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: gateway.metadata.name,
    })
    assert.isAtLeast(hpa.spec.minReplicas, 2)
    assert.isAbove(hpa.spec.maxReplicas, hpa.spec.minReplicas)
    assert.isUndefined(gateway.spec.replicas, "the autoscaler owns the count; a fixed one would reset it on apply")
    assert.isDefined(container.resources.requests.cpu, "CPU utilization needs a CPU request")
    assert.deepStrictEqual(container.readinessProbe.grpc, { port: grpcPort, service: "stagebeam.v1.Reasoner" })
    assert.isDefined(container.livenessProbe)
    assert.isDefined(container.resources.limits.memory)
    assert.deepStrictEqual(
      container.ports.map((p: { containerPort: number }) => p.containerPort),
      [grpcPort, metricsPort, httpPort],
    )
    assert.isTrue(pod.spec.securityContext.runAsNonRoot)

    const labels = gateway.spec.selector.matchLabels
    const pdb = find("PodDisruptionBudget", "stagebeam-gateway")
    assert.deepStrictEqual(pdb.spec.selector.matchLabels, labels)
    assert.isBelow(pdb.spec.minAvailable, hpa.spec.minReplicas) // a node drain can always move one
    const service = find("Service", "stagebeam-gateway")
    assert.deepStrictEqual(service.spec.selector, labels)
    assert.includeMembers(
      service.spec.ports.map((p: { port: number }) => p.port),
      [grpcPort, httpPort],
    )
  })

  it("network policies: the gateway takes its doors from anyone and calls only the vLLM pods (and DNS)", () => {
    const gateway = find("NetworkPolicy", "stagebeam-gateway")
    const pod = find("Deployment", "stagebeam-gateway").spec.template
    assert.deepStrictEqual(
      gateway.spec.podSelector.matchLabels,
      pod.metadata.labels["app.kubernetes.io/name"] && {
        "app.kubernetes.io/name": pod.metadata.labels["app.kubernetes.io/name"],
      },
    )
    assert.sameMembers(gateway.spec.policyTypes, ["Ingress", "Egress"])
    assert.sameMembers(
      gateway.spec.ingress[0].ports.map((p: { port: string }) => p.port),
      pod.spec.containers[0].ports.map((p: { name: string }) => p.name),
    )
    const vllm = find("StatefulSet", "vllm")
    const [toVllm] = gateway.spec.egress
    assert.deepStrictEqual(toVllm.to[0].podSelector.matchLabels, vllm.spec.selector.matchLabels)
    assert.deepStrictEqual(toVllm.ports, [{ port: 8000, protocol: "TCP" }])
    assert.lengthOf(gateway.spec.egress, 2) // the vLLM pods and DNS, nothing else
    const servers = find("NetworkPolicy", "vllm")
    assert.deepStrictEqual(
      servers.spec.ingress[0].from[0].podSelector.matchLabels,
      gateway.spec.podSelector.matchLabels,
    )
  })

  it("secrets: tokens and the vLLM key are mounted as files the settings name; TLS ends at the Ingress and the route", () => {
    const pod = find("Deployment", "stagebeam-gateway").spec.template.spec
    const container = pod.containers[0]
    const config = find("ConfigMap", container.envFrom[0].configMapRef.name).data
    const mountOf = (secret: string) => {
      const volume = pod.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === secret)
      return container.volumeMounts.find((m: { name: string }) => m.name === volume.name).mountPath as string
    }
    assert.strictEqual(config.STAGEBEAM_AUTH_TOKENS_FILE, `${mountOf("stagebeam-tokens")}/tokens`)
    assert.property(find("Secret", "stagebeam-tokens").data, "tokens")
    const settingsFile = parse(find("ConfigMap", "stagebeam-gateway-settings").data["stagebeam.yaml"])
    assert.deepStrictEqual(settingsFile.pools.generator.apiKey, { file: `${mountOf("stagebeam-upstream")}/api-key` })
    const vllmEnv = find("StatefulSet", "vllm").spec.template.spec.containers[0].env
    assert.deepInclude(vllmEnv, {
      name: "VLLM_API_KEY",
      valueFrom: { secretKeyRef: { name: "stagebeam-upstream", key: "api-key" } },
    })
    assert.strictEqual(find("Secret", "stagebeam-tls").type, "kubernetes.io/tls")
    assert.strictEqual(find("Ingress", "stagebeam-gateway").spec.tls[0].secretName, "stagebeam-tls")
    const listener = find("Gateway", "stagebeam").spec.listeners[0]
    assert.strictEqual(listener.tls.certificateRefs[0].name, "stagebeam-tls")
    const service = find("Service", "stagebeam-gateway")
    const portOf = (name: string) => service.spec.ports.find((p: { name: string }) => p.name === name).port
    assert.strictEqual(find("HTTPRoute", "stagebeam-gateway").spec.rules[0].backendRefs[0].port, portOf("http"))
    assert.strictEqual(find("GRPCRoute", "stagebeam-gateway").spec.rules[0].backendRefs[0].port, portOf("grpc"))
    assert.strictEqual(
      find("Ingress", "stagebeam-gateway").spec.rules[0].http.paths[0].backend.service.port.name,
      "http",
    )
  })

  it("images are tagged with the gateway's package version", () => {
    const images = manifests.flatMap((m) =>
      m.kind === "Deployment" || m.kind === "StatefulSet"
        ? // biome-ignore lint/suspicious/noExplicitAny: untyped YAML, validated by its model above.
          (m as any).spec.template.spec.containers.map((c: { image: string }) => c.image)
        : [],
    )
    assert.include(images, `stagebeam/gateway:${version}`)
    for (const image of images.filter((i: string) => i.startsWith("stagebeam/")))
      assert.match(image, new RegExp(`:${version}$`))
  })

  if (overlay === "gpu") {
    it("runs vLLM v0.10.2 with the model's flags on one GPU each, ready on /health, scraped by the operator", () => {
      const vllm = find("StatefulSet", "vllm")
      const container = vllm.spec.template.spec.containers[0]
      assert.strictEqual(container.image, "vllm/vllm-openai:v0.10.2")
      for (const flag of [
        "--model=Xkev/Llama-3.2V-11B-cot",
        "--enforce-eager",
        "--max-num-seqs=16",
        "--max-model-len=8192",
        "--limit-mm-per-prompt=image=1",
      ]) {
        assert.include(container.args, flag)
      }
      assert.strictEqual(container.resources.limits["nvidia.com/gpu"], "1")
      assert.strictEqual(container.readinessProbe.httpGet.path, "/health")
      // One shared copy of the weights for every pod (ReadWriteMany), not one download per pod.
      const models = vllm.spec.template.spec.volumes.find((v: { name: string }) => v.name === "models")
      const claim = find("PersistentVolumeClaim", models.persistentVolumeClaim.claimName)
      assert.deepStrictEqual(claim.spec.accessModes, ["ReadWriteMany"])
      assert.isUndefined(vllm.spec.volumeClaimTemplates)

      const podMonitor = find("PodMonitor", "vllm")
      assert.deepStrictEqual(podMonitor.spec.selector.matchLabels, vllm.spec.selector.matchLabels)
      const portNames = container.ports.map((p: { name: string }) => p.name)
      assert.include(portNames, podMonitor.spec.podMetricsEndpoints[0].port)
      const serviceMonitor = find("ServiceMonitor", "stagebeam-gateway")
      const service = find("Service", "stagebeam-gateway")
      assert.deepInclude(service.metadata.labels, serviceMonitor.spec.selector.matchLabels)
      assert.include(
        service.spec.ports.map((p: { name: string }) => p.name),
        serviceMonitor.spec.endpoints[0].port,
      )
    })
  } else {
    it("runs the simulator from its own image instead of vLLM, with nothing of a GPU left", () => {
      const vllm = find("StatefulSet", "vllm")
      const container = vllm.spec.template.spec.containers[0]
      assert.strictEqual(container.image, `stagebeam/vllm-sim:${version}`)
      assert.deepStrictEqual(container.command, ["node", "services/vllm-sim/bin/vllm-sim.js"])
      const port = container.args[container.args.indexOf("--port") + 1]
      assert.strictEqual(Number(port), container.ports[0].containerPort)
      assert.notInclude(JSON.stringify(manifests), "nvidia.com/gpu")
      assert.isUndefined(vllm.spec.volumeClaimTemplates)
      assert.notInclude(JSON.stringify(manifests), "PersistentVolumeClaim")
    })
  }
})

describe("Kubernetes layout (deploy/k8s)", () => {
  it("both overlays build on the same base; the monitoring component is the GPU overlay's", () => {
    for (const overlay of ["gpu", "cpu-demo"]) {
      const kustomization = parse(read(`deploy/k8s/overlays/${overlay}/kustomization.yaml`))
      assert.deepStrictEqual(kustomization.resources, ["../../base"])
    }
    assert.deepStrictEqual(parse(read("deploy/k8s/overlays/gpu/kustomization.yaml")).components, [
      "../../components/monitoring",
      "../../components/edge",
    ])
    assert.deepStrictEqual(parse(read("deploy/k8s/overlays/cpu-demo/kustomization.yaml")).components, [
      "../../components/edge",
    ])
  })

  it("states the minimum Kubernetes version the preStop sleep needs (1.30)", () => {
    assert.include(read("deploy/k8s/base/kustomization.yaml"), "Kubernetes >= 1.30")
    assert.include(read("deploy/README.md"), "Kubernetes 1.30")
  })
})

describe("Dockerfiles (deploy/Dockerfile, deploy/simulator.Dockerfile)", () => {
  it("name their Node base by a build argument, label the version, run as a user, and the gateway's has no simulator", () => {
    for (const file of ["deploy/Dockerfile", "deploy/simulator.Dockerfile"]) {
      const lines = read(file)
        .split("\n")
        .filter((line) => line !== "" && !line.startsWith("#"))
      assert.match(lines[0]!, /^ARG NODE_IMAGE=node:24/)
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own variable syntax.
      assert.strictEqual(lines[1], "FROM ${NODE_IMAGE}")
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own variable syntax.
      assert.include(read(file), 'org.opencontainers.image.version="${VERSION}"')
      assert.include(lines, "USER node")
    }
    assert.include(read("deploy/Dockerfile"), '"services/gateway/src/main.ts"')
    // V8 reads it only as the heap is made, so it is on the command line, not in RuntimeTuning.ts.
    assert.match(
      read("deploy/Dockerfile"),
      /^ENTRYPOINT \[.*"--no-memory-reducer", "services\/gateway\/src\/main\.ts"\]$/m,
    )
    assert.notInclude(read("deploy/Dockerfile").replace(/^#.*$/gm, ""), "vllm-sim")
    const context = execFileSync(process.execPath, [join(repo, "deploy/context-files.ts"), "gateway"], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    }).split("\0")
    assert.include(context, "services/gateway/src/main.ts")
    assert.isEmpty(context.filter((path) => path.includes("vllm-sim")))
    const script = read("deploy/build-image.sh")
    assert.include(script, '--build-arg "NODE_IMAGE=$base"')
    assert.include(script, 'require("./services/gateway/package.json").version')
  })
})

describe("compose file (deploy/compose.yaml)", () => {
  const text = read("deploy/compose.yaml")
  // biome-ignore lint/suspicious/noExplicitAny: untyped YAML, checked field by field below.
  const compose: any = parse(text, { merge: true })

  it("runs the gateway over two simulators on the host network, with settings the gateway reads", () => {
    assert.sameMembers(Object.keys(compose.services), ["sim-1", "sim-2", "gateway"])
    for (const service of Object.values(compose.services) as Array<{ network_mode: string }>) {
      assert.strictEqual(service.network_mode, "host")
    }
    const environment: Record<string, string> = compose.services.gateway.environment
    for (const name of Object.keys(environment))
      assert.isTrue(gatewaySettings.has(name), `${name} is not read by the gateway`)
    const simulatorPorts = ["sim-1", "sim-2"].map((name) => {
      const command: Array<string> = compose.services[name].command
      assert.strictEqual(command[0], "services/vllm-sim/bin/vllm-sim.js")
      return command[command.indexOf("--port") + 1]
    })
    assert.deepStrictEqual(
      environment.STAGEBEAM_ENDPOINTS?.split(","),
      simulatorPorts.map((port) => `http://127.0.0.1:${port}`),
    )
  })

  it("gives the gateway a stop grace period above its drain timeout, and versioned images", () => {
    const gateway = compose.services.gateway
    const seconds = (text: string) => Number(/^(\d+)s$/.exec(text)?.[1])
    assert.isAbove(seconds(gateway.stop_grace_period), seconds(gateway.environment.STAGEBEAM_DRAIN_TIMEOUT))
    assert.strictEqual(gateway.image, `stagebeam/gateway:${version}`)
    assert.strictEqual(compose.services["sim-1"].image, `stagebeam/vllm-sim:${version}`)
  })

  it("documents the GPU variant with vLLM v0.10.2, the model's flags and a GPU reservation", () => {
    for (const needle of [
      "vllm/vllm-openai:v0.10.2",
      "--enforce-eager --max-num-seqs 16 --max-model-len 8192 --limit-mm-per-prompt image=1",
      "capabilities: [gpu]",
    ]) {
      assert.include(text, needle)
    }
  })
})
