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
/**
 * An event's fields as the page reads them (lowerCamelCase): the HTTP door sends snake_case (its one convention),
 * `stagebeam reason --json` the gRPC door's camelCase; both open here.
 */
const camelKeys = (value) => {
  if (Array.isArray(value)) return value.map(camelKeys)
  if (value === null || typeof value !== "object") return value
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()),
      camelKeys(inner),
    ]),
  )
}
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
      kept: [],
    })
  }
  const step = state.steps.get(index)
  if (kind !== undefined && step.kind === undefined) step.kind = kind
  return step
}

const apply = (received) => {
  // Saved as received: a saved trace is the door's own JSON.
  state.events.push(received)
  const event = camelKeys(received)
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
      stepOf(body.step).kept.push(body.index)
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

const candidateCard = (step, candidate, firstOfText, path) => {
  const text = flatten(candidate.text)
  const same = firstOfText.get(text)
  if (same === undefined) firstOfText.set(text, candidate.index)
  const chosen = path.has(`${step.index}:${candidate.index}`) && candidate.valid
  const kept = !chosen && step.kind === "CAPTION" && isSwires() && step.kept.includes(candidate.index)
  const marks = []
  if (!candidate.valid) marks.push(`invalid: ${candidate.problem}`)
  if (candidate.mergedIntoPlusOne > 0) marks.push(`merged into #${candidate.mergedIntoPlusOne - 1}`)
  else if (same !== undefined) marks.push(`same text as #${same}`)
  if (candidate.attempt > 0) marks.push("resampled")
  const scored = step.scores.get(candidate.index)
  if (scored !== undefined) marks.push(`score ${Number(scored.score).toFixed(3)}`)
  if (kept) marks.push("kept")
  const classes = [
    "candidate",
    chosen ? "chosen" : "",
    kept ? "kept" : "",
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

/** What decided a match, in words: which response the judge preferred and by how much, or why no judge decided. */
const verdictWords = (match) => {
  const position = match.winner === match.first ? 1 : 2
  const margin =
    match.margin === undefined || match.margin === null ? "" : `, margin ${Number(match.margin).toFixed(1)}`
  switch (match.decidedBy) {
    case "JUDGE":
      return match.explicit || (match.votesFirst ?? 0) + (match.votesSecond ?? 0) > 1
        ? `response ${position} preferred${margin}`
        : "the verdict named neither response: the second wins, as in the reference"
    case "MARGIN":
      return `the verdicts disagreed: the larger margin decided${margin}`
    case "COIN":
      return "no verdict decided: a seeded coin"
    case "CORRECTNESS":
      return `#${match.winner === match.first ? match.second : match.first} failed the correctness check`
    case "IDENTICAL":
      return "identical texts: a seeded coin, no judge call"
    case "UNREADABLE":
      return "a response the pre-check cannot read: the readable one wins"
    default:
      return String(match.decidedBy ?? "").toLowerCase()
  }
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
      text: `round ${match.round}: #${match.first} vs #${match.second} → #${match.winner} · ${how} · ${verdictWords(match)} · ${ms(match.endedAtMs) - ms(match.startedAtMs)} ms`,
    }),
    el("pre", { text: match.verdict === "" ? "(no judge call)" : match.verdict }),
  ])
  return row
}

const isSwires = () => (state.started?.strategy ?? state.done?.strategy) === "SWIRES"

/**
 * The chosen path, as "step:index" keys. A stage search chose one candidate per step. SWIRES kept several captions
 * and pooled every reasoning: its answer is the best-scored conclusion, which continued the reasoning ranked at its
 * place in the pool (conclusion steps follow the pool's order by score), which continued the caption kept at its
 * place in its pass (reasoning steps follow the kept captions' order).
 */
const chosenPath = () => {
  const steps = [...state.steps.values()].sort((a, b) => a.index - b.index)
  const path = new Set()
  if (!isSwires()) {
    for (const step of steps) if (step.chosen !== undefined) path.add(`${step.index}:${step.chosen.index}`)
    return path
  }
  const summary = steps.find((step) => step.kind === "SUMMARY" && step.chosen !== undefined)
  if (summary !== undefined) path.add(`${summary.index}:${summary.chosen.index}`)
  const conclusions = steps.filter((step) => step.kind === "CONCLUSION")
  const won = conclusions.find((step) => step.chosen !== undefined)
  if (won === undefined) return path
  path.add(`${won.index}:${won.chosen.index}`)
  const pool = steps
    .filter((step) => step.kind === "REASONING")
    .flatMap((step) =>
      step.candidates.map((candidate) => ({ step, candidate, scored: step.scores.get(candidate.index) })),
    )
    .filter((entry) => entry.scored !== undefined)
    .sort((a, b) => b.scored.score - a.scored.score)
  const reasoning = pool[conclusions.indexOf(won)]
  if (reasoning === undefined) return path
  path.add(`${reasoning.step.index}:${reasoning.candidate.index}`)
  const caption = [...steps].reverse().find((step) => step.kind === "CAPTION" && step.index < reasoning.step.index)
  if (caption === undefined) return path
  const place = steps.filter(
    (step) => step.kind === "REASONING" && step.index > caption.index && step.index < reasoning.step.index,
  ).length
  const kept = caption.kept[place]
  if (kept !== undefined) path.add(`${caption.index}:${kept}`)
  return path
}

const stepBlock = (step, bothOrders, path, title) => {
  const firstOfText = new Map()
  const column = el("div", { class: "step", "data-step": String(step.index) }, [
    el("h3", {
      text:
        title ?? `step ${step.index} · ${step.kind ?? ""}${step.planned > 0 ? ` · ${step.planned} candidates` : ""}`,
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
  for (const candidate of step.candidates) column.append(candidateCard(step, candidate, firstOfText, path))
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
  if (step.chosen !== undefined && step.chosen.index >= 0 && !isSwires()) {
    column.append(
      el("p", { class: "chosen-note", text: `chose #${step.chosen.index} (${step.chosen.by.toLowerCase()})` }),
    )
  }
  return column
}

/** SWIRES: the summary, each pass side by side (its captions, then the reasonings of the kept ones), the conclusions. */
const swiresColumns = (steps, path) => {
  const columns = []
  let pass
  const passes = []
  for (const step of steps) {
    if (step.kind === "CAPTION") {
      pass = { caption: step, reasonings: [] }
      passes.push(pass)
    } else if (step.kind === "REASONING" && pass !== undefined) pass.reasonings.push(step)
  }
  const summary = steps.find((step) => step.kind === "SUMMARY")
  if (summary !== undefined) columns.push(stepBlock(summary, false, path, "summary · one sample"))
  for (const [number, { caption, reasonings }] of passes.entries()) {
    const retrace = state.retraces.find((retraced) => retraced.pass === number)
    const column = el("div", { class: "pass", "data-pass": String(number) }, [
      el("h3", { class: "pass-title", text: `pass ${number + 1}` }),
      stepBlock(caption, false, path, `captions · top ${caption.kept.length} kept by score`),
      ...reasonings.map((step, place) =>
        stepBlock(step, false, path, `reasonings from kept caption #${caption.kept[place] ?? "?"}`),
      ),
    ])
    if (retrace !== undefined) {
      column.append(
        el("p", {
          class: "retrace-note",
          text: `retraced: second-best score ${Number(retrace.secondBest).toFixed(3)} ≤ cutoff ${Number(retrace.cutoff).toFixed(3)}`,
        }),
      )
    }
    columns.push(column)
  }
  const conclusions = steps.filter((step) => step.kind === "CONCLUSION")
  if (conclusions.length > 0) {
    columns.push(
      el("div", { class: "pass conclusions" }, [
        el("h3", { class: "pass-title", text: "conclusions · the best-scored answer wins" }),
        ...conclusions.map((step, place) =>
          stepBlock(step, false, path, `from the pool's reasoning ranked ${place + 1}`),
        ),
      ]),
    )
  }
  return columns
}

const drawTree = () => {
  const tree = $("tree")
  tree.replaceChildren()
  const bothOrders = state.started?.selection?.bothOrders === true
  const steps = [...state.steps.values()].sort((a, b) => a.index - b.index)
  const path = chosenPath()
  tree.dataset.layout = isSwires() ? "swires" : "steps"
  if (isSwires()) tree.append(...swiresColumns(steps, path))
  else for (const step of steps) tree.append(stepBlock(step, bothOrders, path))
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
  if ($("tree").dataset.layout === "swires") {
    const chosen = [...document.querySelectorAll("#tree .candidate.chosen")].sort(
      (a, b) => Number(a.dataset.step) - Number(b.dataset.step),
    )
    for (let i = 1; i < chosen.length; i++) link(svg, boxOf(chosen[i - 1]), boxOf(chosen[i]), true)
    return
  }
  const steps = [...document.querySelectorAll("#tree .step")]
  for (let i = 1; i < steps.length; i++) {
    const from = steps[i - 1].querySelector(".candidate.chosen")
    if (from === null) continue
    const a = boxOf(from)
    for (const card of steps[i].querySelectorAll(".candidate"))
      link(svg, a, boxOf(card), card.classList.contains("chosen"))
  }
}

/** A branch from card a to card b: across to the next column, or along the right side to a card below in the same one. */
const link = (svg, a, b, chosen) => {
  const mid = (a.right + b.left) / 2
  const bend = a.right + 24
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path")
  path.setAttribute(
    "d",
    b.left > a.right
      ? `M${a.right},${a.middle} C${mid},${a.middle} ${mid},${b.middle} ${b.left},${b.middle}`
      : `M${a.right},${a.middle} C${bend},${a.middle} ${bend},${b.middle} ${b.right},${b.middle}`,
  )
  path.setAttribute("class", chosen ? "link chosen" : "link")
  svg.append(path)
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
      if ((m.calls ?? (m.decidedBy === "JUDGE" ? 1 : 0)) > 0)
        add(
          m.server,
          m.startedAtMs,
          m.endedAtMs,
          Math.max(1, m.calls ?? 1),
          `step ${step.index} round ${m.round}: judge`,
        )
    }
    for (const scored of step.scores.values())
      add(scored.server, scored.startedAtMs, scored.endedAtMs, 1, `step ${step.index}: score #${scored.index}`)
  }
  return calls
}

const KIND_CLASS = (label) => (label.includes("judge") ? "bar judge" : label.includes("score") ? "bar score" : "bar")

/** Ticks for a time axis of `end` ms: about five round steps, in ms or s. */
const ticks = (end) => {
  const raw = end / 5
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(1, raw)))
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? raw
  const values = []
  for (let t = 0; t <= end; t += step) values.push(t)
  return values.map((t) => ({
    at: (100 * t) / end,
    label: end >= 2000 ? `${(t / 1000).toFixed(step >= 1000 ? 0 : 1)} s` : `${t} ms`,
  }))
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
          class: KIND_CLASS(call.label),
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
  const axis = $("servers").querySelector("tfoot")
  axis.replaceChildren()
  if (calls.size > 0) {
    axis.append(
      el("tr", {}, [
        el("td", { colspan: "4", class: "axis-name", text: "since the search started" }),
        el("td", {}, [
          el(
            "div",
            { class: "axis" },
            ticks(end).map((tick) => el("span", { class: "tick", style: `left:${tick.at}%`, text: tick.label })),
          ),
        ]),
      ]),
    )
  }
}

/**
 * What the search cost: its calls and tokens, the GPU slot-seconds its calls held (each sample, verdict and score
 * for the time it ran), and its latency against one greedy answer, estimated as the chosen path's own generation
 * time (what one sample per stage takes, without the search).
 */
const costLine = () => {
  const usage = state.done?.usage ?? {}
  const slotMs = [...serverCalls().values()]
    .flat()
    .reduce((sum, call) => sum + (call.end - call.start) * call.samples, 0)
  const path = chosenPath()
  let greedyMs = 0
  for (const step of state.steps.values())
    for (const candidate of step.candidates)
      if (path.has(`${step.index}:${candidate.index}`)) greedyMs += ms(candidate.endedAtMs) - ms(candidate.startedAtMs)
  const calls =
    (usage.generationCalls ?? 0) + (usage.judgeCalls ?? 0) + (usage.scoringCalls ?? 0) + (usage.correctnessChecks ?? 0)
  const tokens = Number(usage.promptTokens ?? 0) + Number(usage.completionTokens ?? 0)
  const elapsed = Number(state.done?.elapsedMs ?? 0)
  return (
    `Cost: ${calls} calls, ${tokens} tokens (${usage.completionTokens ?? 0} generated), ` +
    `${(slotMs / 1000).toFixed(1)} GPU slot-seconds` +
    (greedyMs > 0
      ? ` · latency ${(elapsed / greedyMs).toFixed(1)}× one greedy answer (the chosen path alone: ${(greedyMs / 1000).toFixed(1)} s)`
      : "")
  )
}

const drawAnswer = () => {
  const done = state.done
  $("answer").hidden = done === undefined
  if (done === undefined) return
  $("conclusion").textContent = done.conclusion
  const usage = done.usage ?? {}
  $("cost").textContent = costLine()
  const shape =
    done.strategy === "SWIRES" || done.strategy === "GREEDY" ? done.strategy : `${done.strategy}/${done.tournament}`
  $("summary").textContent =
    `${shape}, seed ${done.seed}, ${done.elapsedMs} ms, ` +
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

/** The search in flight: cancelling aborts its request, and the gateway cancels the search and its GPU calls. */
let inFlight

const run = async () => {
  const file = $("image").files[0]
  if (file === undefined) {
    // LLaVA-CoT was trained on questions with an image only: without one its behaviour is undefined.
    setStatus("Choose an image first: the model answers questions about an image.", "error")
    return
  }
  state = emptyState()
  draw()
  $("detail").hidden = true
  setStatus("Waiting for admission…", "running")
  inFlight = new AbortController()
  $("cancel").disabled = false
  $("run").disabled = true
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
    const content = [
      { type: "text", text: $("question").value },
      { type: "image_url", image_url: { url: await readAsDataUrl(file) } },
    ]
    const seed = Number($("seed").value)
    const response = await fetch("/v1/search/events", {
      method: "POST",
      signal: inFlight.signal,
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
    if (inFlight.signal.aborted) setStatus("Cancelled: the gateway stopped the search.", "cancelled")
    else setStatus(`Error: ${error.message}`, "error")
  } finally {
    clearInterval(ticker)
    $("cancel").disabled = true
    $("run").disabled = false
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
      return [...value.trace, { atMs: value.elapsedMs ?? value.elapsed_ms ?? "0", done: { ...value, trace: [] } }]
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
          text: `${judge.name} (${judge.kind}${judge.is_default ? ", default" : ""})`,
        })
        option.selected = judge.is_default
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
$("cancel").addEventListener("click", () => inFlight?.abort())
/** A "simulated" badge when any pool behind the gateway is a simulator (GET /v1/describe, the Describe RPC). */
const loadDescription = async () => {
  try {
    const response = await fetch("/v1/describe", { headers: authHeaders() })
    if (!response.ok) return
    const described = await response.json()
    const simulated = (described.pools ?? []).filter((pool) => pool.simulated).map((pool) => pool.name)
    $("simulated").hidden = simulated.length === 0
    $("simulated").title =
      `simulated pools: ${simulated.join(", ")} — answers and timings are the simulator's, not the model's`
  } catch {
    // No badge: the page still runs searches.
  }
}

$("token").addEventListener("change", () => {
  loadJudges()
  loadDescription()
})
loadJudges()
loadDescription()
window.addEventListener("resize", () => requestAnimationFrame(drawLinks))
