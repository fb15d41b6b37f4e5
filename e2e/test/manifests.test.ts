import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1"
import { ENVIRONMENT } from "@stagebeam/gateway/environment"
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1"
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2"
import { PodDisruptionBudget } from "kubernetes-models/policy/v1"
import { ConfigMap, Service } from "kubernetes-models/v1"
import { parse } from "yaml"
import { finder, type Manifest, render } from "./kustomize.ts"

const repo = join(import.meta.dirname, "../..")
const read = (path: string) => readFileSync(join(repo, path), "utf8")

/** The environment variables the gateway reads, derived from its settings schema. */
const gatewaySettings = new Set(ENVIRONMENT.map((entry) => entry.variable))

/** The kubernetes-models class that validates each kind used here against its OpenAPI schema. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/ConfigMap": ConfigMap,
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
    for (const name of names) assert.isTrue(gatewaySettings.has(name), `${name} is not read by the gateway`)

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
    it("runs the simulator from the gateway's image instead of vLLM, with nothing of a GPU left", () => {
      const vllm = find("StatefulSet", "vllm")
      const container = vllm.spec.template.spec.containers[0]
      const gateway = find("Deployment", "stagebeam-gateway").spec.template.spec.containers[0]
      assert.strictEqual(container.image, gateway.image)
      assert.deepStrictEqual(container.command, ["node", "services/vllm-sim/bin/vllm-sim.js"])
      const port = container.args[container.args.indexOf("--port") + 1]
      assert.strictEqual(Number(port), container.ports[0].containerPort)
      assert.notInclude(JSON.stringify(manifests), "nvidia.com/gpu")
      assert.isUndefined(vllm.spec.volumeClaimTemplates)
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
    ])
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
