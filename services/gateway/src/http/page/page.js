// The search page: runs a search through POST /v1/search/events (the ReasonStream events as server-sent events)
// and draws its tree as the events arrive; or replays a saved trace. Plain DOM and SVG, no dependencies.

const $ = (id) => document.getElementById(id)

/** The kind of a ReasonEvent: the one field it sets (the gRPC JSON also names it in `event`). */
const KINDS = [
  "searchStarted",
  "stepStarted",
  "candidate",
  "reasoningChecked",
  "match",
  "stepChosen",
  "scored",
  "retraced",
  "cutShort",
  "done",
]
const kindOf = (event) => event.event ?? KINDS.find((kind) => event[kind] !== undefined && event[kind] !== null)

const flatten = (text) =>
  String(text ?? "")
    .replace(/<\/?[A-Z]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
const clip = (text, width) => (text.length > width ? `${text.slice(0, width - 1)}…` : text)
const ms = (value) => Number(value ?? 0)

/** What the page knows of one search, rebuilt from its events. */
const emptyState = () => ({
  events: [],
  started: undefined,
  steps: new Map(),
  retraces: [],
  cutShort: undefined,
  done: undefined,
})
let state = emptyState()

const stepOf = (index, kind) => {
  if (!state.steps.has(index)) {
    state.steps.set(index, {
      index,
      kind,
      planned: 0,
      candidates: [],
      checks: [],
      matches: [],
      scores: new Map(),
      chosen: undefined,
    })
  }
  const step = state.steps.get(index)
  if (kind !== undefined && step.kind === undefined) step.kind = kind
  return step
}

const apply = (event) => {
  state.events.push(event)
  const kind = kindOf(event)
  const body = event[kind]
  switch (kind) {
    case "searchStarted":
      state.started = body
      break
    case "stepStarted":
      stepOf(body.step, body.kind).planned = body.candidates
      break
    case "candidate":
      stepOf(body.step, body.kind).candidates.push(body)
      break
    case "reasoningChecked":
      stepOf(body.step).checks.push(body)
      break
    case "match":
      stepOf(body.step, body.kind).matches.push(body)
      break
    case "scored":
      stepOf(body.step, body.kind).scores.set(body.index, body)
      break
    case "retraced":
      state.retraces.push(body)
      break
    case "stepChosen":
      stepOf(body.step, body.kind).chosen = body
      break
    case "cutShort":
      state.cutShort = body
      break
    case "done":
      state.done = body
      break
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing

const el = (tag, attributes = {}, children = []) => {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value
    else if (key === "class") node.className = value
    else node.setAttribute(key, value)
  }
  for (const child of children) node.append(child)
  return node
}

const showDetail = (title, text) => {
  $("detail").hidden = false
  $("detail-title").textContent = title
  $("detail-text").textContent = text
  $("detail").scrollIntoView({ block: "nearest" })
}

const candidateCard = (step, candidate, firstOfText) => {
  const text = flatten(candidate.text)
  const same = firstOfText.get(text)
  if (same === undefined) firstOfText.set(text, candidate.index)
  const chosen = step.chosen !== undefined && step.chosen.index === candidate.index && candidate.valid
  const marks = []
  if (!candidate.valid) marks.push(`invalid: ${candidate.problem}`)
  if (candidate.mergedIntoPlusOne > 0) marks.push(`merged into #${candidate.mergedIntoPlusOne - 1}`)
  else if (same !== undefined) marks.push(`same text as #${same}`)
  if (candidate.attempt > 0) marks.push("resampled")
  const scored = step.scores.get(candidate.index)
  if (scored !== undefined) marks.push(`score ${Number(scored.score).toFixed(3)}`)
  const classes = [
    "candidate",
    chosen ? "chosen" : "",
    candidate.valid ? "" : "invalid",
    same === undefined ? "" : "duplicate",
  ]
  const card = el(
    "button",
    {
      type: "button",
      class: classes.filter(Boolean).join(" "),
      "data-step": String(step.index),
      "data-index": String(candidate.index),
      title: "Show the full text",
    },
    [
      el("span", { class: "index", text: `#${candidate.index}` }),
      ...(marks.length === 0 ? [] : [el("span", { class: "marks", text: marks.join(" · ") })]),
      el("span", { class: "preview", text: clip(text, 160) }),
      el("span", {
        class: "meta",
        text: `${candidate.completionTokens} tokens · ${ms(candidate.endedAtMs) - ms(candidate.startedAtMs)} ms · ${candidate.server}`,
      }),
    ],
  )
  card.addEventListener("click", () =>
    showDetail(`step ${step.index} ${step.kind} · candidate #${candidate.index} · ${candidate.server}`, candidate.text),
  )
  return card
}

const matchRow = (match, bothOrders) => {
  // Verdicts that split (both orders disagreeing, or split votes) were settled by the margin or a coin.
  const split = (match.votesFirst ?? 0) > 0 && (match.votesSecond ?? 0) > 0
  const flip = split && bothOrders && match.votesFirst + match.votesSecond === 2
  const how = [
    match.decidedBy === "JUDGE"
      ? match.explicit || split
        ? "judge"
        : "judge: unclear verdict"
      : match.decidedBy.toLowerCase(),
    ...(flip
      ? ["order flip (the verdict changed with the order)"]
      : split
        ? [`votes ${match.votesFirst}:${match.votesSecond}`]
        : []),
    ...(match.reasked ? ["re-asked swapped"] : []),
  ].join(" · ")
  const row = el("details", { class: `match ${match.decidedBy.toLowerCase()}${how.includes("flip") ? " flip" : ""}` }, [
    el("summary", {
      text: `round ${match.round}: #${match.first} vs #${match.second} → #${match.winner} · ${how} · ${ms(match.endedAtMs) - ms(match.startedAtMs)} ms`,
    }),
    el("pre", { text: match.verdict === "" ? "(no judge call)" : match.verdict }),
  ])
  return row
}

const drawTree = () => {
  const tree = $("tree")
  tree.replaceChildren()
  const bothOrders = state.started?.selection?.bothOrders === true
  for (const step of [...state.steps.values()].sort((a, b) => a.index - b.index)) {
    const firstOfText = new Map()
    const column = el("div", { class: "step", "data-step": String(step.index) }, [
      el("h3", {
        text: `step ${step.index} · ${step.kind ?? ""}${step.planned > 0 ? ` · ${step.planned} candidates` : ""}`,
      }),
    ])
    if (step.chosen !== undefined && step.candidates.length === 0) {
      const fixed = el("button", { type: "button", class: "candidate chosen fixed", "data-step": String(step.index) }, [
        el("span", { class: "index", text: step.chosen.by.toLowerCase() }),
        el("span", { class: "preview", text: clip(flatten(step.chosen.text), 160) }),
      ])
      fixed.addEventListener("click", () =>
        showDetail(`step ${step.index} ${step.kind} (${step.chosen.by})`, step.chosen.text),
      )
      column.append(fixed)
    }
    for (const candidate of step.candidates) column.append(candidateCard(step, candidate, firstOfText))
    if (step.checks.length > 0) {
      column.append(
        el(
          "ul",
          { class: "checks" },
          step.checks.map((check) =>
            el("li", { text: `check #${check.index}: ${check.correct ? "correct" : "incorrect"} · ${check.server}` }),
          ),
        ),
      )
    }
    if (step.matches.length > 0) {
      column.append(
        el(
          "div",
          { class: "matches" },
          step.matches.map((match) => matchRow(match, bothOrders)),
        ),
      )
    }
    if (step.chosen !== undefined) {
      column.append(
        el("p", { class: "chosen-note", text: `chose #${step.chosen.index} (${step.chosen.by.toLowerCase()})` }),
      )
    }
    tree.append(column)
  }
  requestAnimationFrame(drawLinks)
}

/** A card's box in the tree's own coordinates (#tree-wrap is its offset parent), whatever moves around the tree. */
const boxOf = (card) => ({
  left: card.offsetLeft,
  right: card.offsetLeft + card.offsetWidth,
  middle: card.offsetTop + card.offsetHeight / 2,
})

/** The branches: from the step's chosen candidate to every candidate of the next step; the chosen path in bold. */
const drawLinks = () => {
  const svg = $("links")
  svg.setAttribute("width", String($("tree").scrollWidth))
  svg.setAttribute("height", String($("tree").scrollHeight))
  svg.replaceChildren()
  const steps = [...document.querySelectorAll("#tree .step")]
  for (let i = 1; i < steps.length; i++) {
    const from = steps[i - 1].querySelector(".candidate.chosen")
    if (from === null) continue
    const a = boxOf(from)
    for (const card of steps[i].querySelectorAll(".candidate")) {
      const b = boxOf(card)
      const mid = (a.right + b.left) / 2
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path")
      path.setAttribute("d", `M${a.right},${a.middle} C${mid},${a.middle} ${mid},${b.middle} ${b.left},${b.middle}`)
      path.setAttribute("class", card.classList.contains("chosen") ? "link chosen" : "link")
      svg.append(path)
    }
  }
}

/** Calls per server with their spans: a step's N samples share one call; each judge call and check is its own. */
const serverCalls = () => {
  const calls = new Map()
  const add = (server, start, end, samples, label) => {
    if (!calls.has(server)) calls.set(server, [])
    calls.get(server).push({ start: ms(start), end: ms(end), samples, label })
  }
  for (const step of state.steps.values()) {
    const byCall = new Map()
    for (const c of step.candidates) {
      const key = `${c.server}|${c.attempt}|${c.startedAtMs}|${c.endedAtMs}`
      byCall.set(key, { ...(byCall.get(key) ?? c), samples: (byCall.get(key)?.samples ?? 0) + 1 })
    }
    for (const call of byCall.values()) {
      add(
        call.server,
        call.startedAtMs,
        call.endedAtMs,
        call.samples,
        `step ${step.index} ${step.kind}: ${call.samples} samples`,
      )
    }
    for (const m of step.matches) {
      if (m.decidedBy === "JUDGE")
        add(m.server, m.startedAtMs, m.endedAtMs, 1, `step ${step.index} round ${m.round}: judge`)
    }
  }
  return calls
}

const drawServers = () => {
  const body = $("servers").querySelector("tbody")
  body.replaceChildren()
  const calls = serverCalls()
  const end = Math.max(1, ...[...calls.values()].flat().map((call) => call.end))
  for (const [server, list] of [...calls.entries()].sort()) {
    const busy = list.reduce((sum, call) => sum + (call.end - call.start), 0)
    const timeline = el(
      "div",
      { class: "timeline" },
      list.map((call) =>
        el("span", {
          class: call.label.includes("judge") ? "bar judge" : "bar",
          title: `${call.label}: ${call.start}–${call.end} ms`,
          style: `left:${(100 * call.start) / end}%;width:${Math.max(0.5, (100 * (call.end - call.start)) / end)}%`,
        }),
      ),
    )
    body.append(
      el("tr", {}, [
        el("td", { text: server }),
        el("td", { text: String(list.length) }),
        el("td", { text: String(list.reduce((sum, call) => sum + call.samples, 0)) }),
        el("td", { text: `${busy} ms` }),
        el("td", {}, [timeline]),
      ]),
    )
  }
}

const drawAnswer = () => {
  const done = state.done
  $("answer").hidden = done === undefined
  if (done === undefined) return
  $("conclusion").textContent = done.conclusion
  const usage = done.usage ?? {}
  $("summary").textContent =
    `${done.strategy}/${done.tournament}, seed ${done.seed}, ${done.elapsedMs} ms, ` +
    `${usage.generationCalls ?? 0} generation + ${usage.judgeCalls ?? 0} judge calls` +
    (usage.scoringCalls > 0 ? `, ${usage.scoringCalls} scoring calls` : "") +
    (state.retraces.length > 0 ? `, ${state.retraces.length} retraces` : "") +
    (done.selection?.judge ? `, judge ${done.selection.judge}` : "") +
    (done.truncatedReason ? `, cut short: ${done.truncatedReason}` : "")
}

const draw = () => {
  drawTree()
  drawServers()
  drawAnswer()
  $("save").disabled = state.events.length === 0
}

const setStatus = (text, phase) => {
  $("status").textContent = text
  if (phase !== undefined) document.body.dataset.state = phase
}

// ---------------------------------------------------------------------------------------------------------------
// Running a search

const readAsDataUrl = (file) =>
  new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(reader.result)
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(file)
  })

const authHeaders = () => {
  const token = $("token").value.trim()
  return token === "" ? {} : { authorization: `Bearer ${token}` }
}

/** Parses server-sent events out of a fetch body as they arrive. */
async function* serverSentEvents(response) {
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += decoder.decode(value, { stream: true })
    let end = buffer.indexOf("\n\n")
    while (end !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const name = /^event: (.*)$/m.exec(block)?.[1] ?? "message"
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n")
      if (data !== "") yield { name, data: JSON.parse(data) }
      end = buffer.indexOf("\n\n")
    }
  }
}

const run = async () => {
  state = emptyState()
  draw()
  $("detail").hidden = true
  setStatus("Waiting for admission…", "running")
  const started = performance.now()
  const ticker = setInterval(() => {
    if (document.body.dataset.state === "running") {
      const steps = state.steps.size
      setStatus(
        `Searching… ${steps} step${steps === 1 ? "" : "s"} · ${((performance.now() - started) / 1000).toFixed(1)} s`,
      )
    }
  }, 200)
  try {
    const models = await fetch("/v1/models", { headers: authHeaders() }).then((response) => response.json())
    const model = models.data?.[0]?.id ?? "stagebeam"
    const file = $("image").files[0]
    const content = [{ type: "text", text: $("question").value }]
    if (file !== undefined) content.push({ type: "image_url", image_url: { url: await readAsDataUrl(file) } })
    const seed = Number($("seed").value)
    const response = await fetch("/v1/search/events", {
      method: "POST",
      headers: { "content-type": "application/json", ...authHeaders() },
      body: JSON.stringify({
        model,
        messages: [{ role: "user", content }],
        stagebeam: {
          strategy: $("strategy").value,
          candidates: Number($("candidates").value),
          preset: $("preset").value,
          ...($("judge").value === "" ? {} : { judge_name: $("judge").value }),
          both_orders: $("both-orders").checked,
          ...(seed > 0 ? { seed } : {}),
        },
      }),
    })
    if (!response.ok) {
      const body = await response.json().catch(() => ({}))
      throw new Error(body.error?.message ?? `HTTP ${response.status}`)
    }
    for await (const { name, data } of serverSentEvents(response)) {
      if (name === "error") throw new Error(data.error?.message ?? "the search failed")
      apply(data)
      draw()
    }
    setStatus(
      state.done === undefined ? "The stream ended without an answer." : `Done in ${state.done.elapsedMs} ms.`,
      state.done === undefined ? "error" : "done",
    )
  } catch (error) {
    setStatus(`Error: ${error.message}`, "error")
  } finally {
    clearInterval(ticker)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Saved traces: this page's own file, `stagebeam reason --json --trace`, or JSON lines of `--stream --json`

const eventsOf = (text) => {
  const trimmed = text.trim()
  try {
    const value = JSON.parse(trimmed)
    if (Array.isArray(value)) return value
    if (Array.isArray(value.events)) return value.events
    if (Array.isArray(value.trace))
      return [...value.trace, { atMs: value.elapsedMs ?? "0", done: { ...value, trace: [] } }]
  } catch {
    return trimmed.split("\n").map((line) => JSON.parse(line))
  }
  throw new Error("not a trace: expected the page's saved file, a Reason response with its trace, or JSON lines")
}

const open = async (file) => {
  try {
    const events = eventsOf(await file.text())
    state = emptyState()
    for (const event of events) apply(event)
    draw()
    setStatus(`Opened ${file.name}: ${events.length} events.`, "done")
  } catch (error) {
    setStatus(`Cannot open ${file.name}: ${error.message}`, "error")
  }
}

const save = () => {
  const blob = new Blob([JSON.stringify({ events: state.events }, null, 2)], { type: "application/json" })
  const link = el("a", { href: URL.createObjectURL(blob), download: "stagebeam-trace.json" })
  document.body.append(link)
  link.click()
  link.remove()
}

/** The judge menu, from the gateway's declared judges (GET /v1/judges): the default first selected. */
const loadJudges = async () => {
  try {
    const response = await fetch("/v1/judges", { headers: authHeaders() })
    if (!response.ok) return
    const listed = await response.json()
    const menu = $("judge")
    menu.replaceChildren(
      ...listed.judges.map((judge) => {
        const option = el("option", {
          value: judge.name,
          text: `${judge.name} (${judge.kind}${judge.isDefault ? ", default" : ""})`,
        })
        option.selected = judge.isDefault
        return option
      }),
    )
  } catch {
    // The menu keeps "the gateway's default"; a search still runs.
  }
}

$("ask").addEventListener("submit", (event) => {
  event.preventDefault()
  run()
})
$("open").addEventListener("change", () => {
  const file = $("open").files[0]
  if (file !== undefined) open(file)
})
$("save").addEventListener("click", save)
$("token").addEventListener("change", loadJudges)
loadJudges()
window.addEventListener("resize", () => requestAnimationFrame(drawLinks))
