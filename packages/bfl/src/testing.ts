/**
 * A faithful fake of the Black Forest Labs API on `127.0.0.1`, for tests and offline examples. It speaks
 * the wire protocol of BFL's OpenAPI: `x-key` auth, `POST /v1/{model}` answering `AsyncResponse` with a
 * cluster-specific `polling_url` (on another path, to prove clients follow it as given), `GET
 * {polling_url}` walking each task through scripted statuses (`Pending` with progress, `Ready`, `Request
 * Moderated`, `Content Moderated`, `Error`, `Failed`, `Task not found`), signed result URLs served by the
 * fake itself that expire after a TTL, FastAPI 422 bodies, 402 without credits, 429 above the active-task
 * limit, 404 for unknown models and 410 for retired ones, and `GET /v1/credits`.
 *
 * @since 0.1.0
 */
import { FakeResponse, FakeRoute, FakeServer } from "@image-gen/testing"
import type * as FakeServerError from "@image-gen/testing/FakeServer"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Samples from "./internal/samples.js"

/**
 * One status answer of a task. `result` of a `Ready` step is filled in by the fake when omitted.
 *
 * @since 0.1.0
 * @category Models
 */
export interface StatusStep {
  readonly status: string
  readonly progress?: number | null | undefined
  readonly details?: Record<string, unknown> | null | undefined
  readonly result?: unknown
  /** Answer this step with a bare HTTP status instead (e.g. 404 for a vanished task). */
  readonly httpStatus?: number | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Task {
  readonly id: string
  readonly model: string
  readonly body: Record<string, unknown>
  /** The cluster path that owns the task (`""` for tasks created without a polling URL). */
  readonly cluster: string
  readonly steps: ReadonlyArray<StatusStep>
  /** Polls answered so far. */
  readonly polls: number
  readonly createdAt: number
  /** When the result URL stops working (epoch ms), once `Ready`. */
  readonly expiresAt: number | undefined
  readonly cost: number
  readonly finished: boolean
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The key the fake accepts in `x-key`. Default `bfl-test-key`. */
  readonly apiKey?: string | undefined
  /** The cluster path prefix of polling URLs. Default `cluster-eu` (`/cluster-eu/v1/get_result?id=`). */
  readonly cluster?: string | undefined
  /**
   * The statuses of a task, by submission. Default: `Pending` (queued), `Pending` (progress 0.5), `Ready`;
   * prompts containing `[request-moderated]`, `[content-moderated]`, `[error]` or `[failed]` end that way.
   */
  readonly steps?: ((model: string, body: Record<string, unknown>) => ReadonlyArray<StatusStep>) | undefined
  /** How long a result URL works. Default 600 seconds, like BFL's signed URLs. */
  readonly resultTtl?: Duration.DurationInput | undefined
  /** Active (unfinished) tasks allowed before 429. Default 24 (6 for `flux-kontext-max`). */
  readonly maxActiveTasks?: number | undefined
  /** Starting credit balance. Default 10000. */
  readonly credits?: number | undefined
  /** Slugs answered with 410 (retired). Default `["flux-pro"]`. */
  readonly retiredModels?: ReadonlyArray<string> | undefined
  /** Whether a webhook submission's answer still carries `polling_url` (UNCONFIRMED upstream). Default false. */
  readonly webhookIncludesPollingUrl?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly server: FakeServer.Service
  /** The base URL to give the client. */
  readonly url: string
  readonly apiKey: string
  /** Queues the statuses of the next submission(s), in order; later submissions use the defaults again. */
  readonly enqueue: (...steps: ReadonlyArray<ReadonlyArray<StatusStep>>) => Effect.Effect<void>
  readonly tasks: Effect.Effect<ReadonlyArray<Task>>
  readonly setCredits: (credits: number) => Effect.Effect<void>
  readonly credits: Effect.Effect<number>
  /** Makes every issued result URL expire now. */
  readonly expireResults: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeBfl extends Context.Tag("@image-gen/bfl/FakeBfl")<FakeBfl, Service>() {}

/** Known slugs and their price in credits: a flat price, or [first MP, each further MP]. */
const prices: Record<string, number | readonly [number, number]> = {
  "flux-2-pro": [3, 1.5],
  "flux-2-pro-preview": [3, 1.5],
  "flux-2-max": [7, 3],
  "flux-2-flex": [6, 6],
  "flux-2-klein-4b": [1.4, 1.4],
  "flux-2-klein-9b": [1.5, 1.5],
  "flux-2-klein-9b-preview": [1.5, 1.5],
  "flux-kontext-pro": 4,
  "flux-kontext-max": 8,
  "flux-pro-1.1": 4,
  "flux-pro-1.1-ultra": 6,
  "flux-dev": 2.5,
  "flux-pro-1.0-fill": 5,
  "flux-pro-1.0-expand": 5
}

const validationError = (loc: ReadonlyArray<string>, msg: string, type: string) =>
  FakeResponse.json({ detail: [{ loc: ["body", ...loc], msg, type }] }, { status: 422 })

const defaultSteps = (_model: string, body: Record<string, unknown>): ReadonlyArray<StatusStep> => {
  const prompt = typeof body.prompt === "string" ? body.prompt : ""
  if (prompt.includes("[request-moderated]")) {
    return [{ status: "Request Moderated", details: { "Moderation Reasons": ["Prompt"] } }]
  }
  if (prompt.includes("[content-moderated]")) {
    return [{ status: "Pending", progress: 0.6 }, {
      status: "Content Moderated",
      details: { "Moderation Reasons": ["Derivative Works"] }
    }]
  }
  if (prompt.includes("[error]")) return [{ status: "Pending", progress: 0.3 }, { status: "Error" }]
  if (prompt.includes("[failed]")) return [{ status: "Pending", progress: 0.3 }, { status: "Failed" }]
  return [{ status: "Pending", progress: null }, { status: "Pending", progress: 0.5 }, { status: "Ready" }]
}

const terminal = new Set(["Ready", "Error", "Failed", "Request Moderated", "Content Moderated", "Task not found"])

/** Checks a body against the documented input schemas (the fields the fake knows), FastAPI style. */
const validate = (model: string, body: Record<string, unknown>): FakeResponse.FakeResponse | undefined => {
  const isFlux2 = model.startsWith("flux-2-")
  const aspect = model.startsWith("flux-kontext-") || model === "flux-pro-1.1-ultra"
  if (model !== "flux-pro-1.0-fill" && model !== "flux-pro-1.0-expand") {
    if (body.prompt === undefined) return validationError(["prompt"], "Field required", "missing")
  }
  if (body.prompt !== undefined && body.prompt !== null && typeof body.prompt !== "string") {
    return validationError(["prompt"], "Input should be a valid string", "string_type")
  }
  for (const key of ["width", "height"] as const) {
    const v = body[key]
    if (v === undefined || v === null) continue
    if (typeof v !== "number" || !Number.isInteger(v)) {
      return validationError([key], "Input should be a valid integer", "int_type")
    }
    if (isFlux2 && (v < 64 || v % 16 !== 0)) {
      return validationError([key], "Value must be at least 64 and a multiple of 16", "value_error")
    }
    if (!isFlux2 && (v < 256 || v > 1440 || v % 32 !== 0)) {
      return validationError([key], "Value must be a multiple of 32 from 256 to 1440", "value_error")
    }
  }
  if (isFlux2 && typeof body.width === "number" && typeof body.height === "number") {
    if (body.width * body.height > 4 * 1024 * 1024) {
      return validationError(["width"], "Output must be at most 4 megapixels", "value_error")
    }
  }
  if (body.seed !== undefined && body.seed !== null && !Number.isInteger(body.seed)) {
    return validationError(["seed"], "Input should be a valid integer", "int_type")
  }
  const formats = isFlux2 ? ["jpeg", "png", "webp"] : ["jpeg", "png"]
  if (
    body.output_format !== undefined && body.output_format !== null && !formats.includes(String(body.output_format))
  ) {
    return validationError(
      ["output_format"],
      `Input should be ${formats.map((f) => `'${f}'`).join(", ")}`,
      "enum"
    )
  }
  const maxTolerance = isFlux2 ? 5 : 6
  const tolerance = body.safety_tolerance
  if (
    tolerance !== undefined &&
    (typeof tolerance !== "number" || !Number.isInteger(tolerance) || tolerance < 0 || tolerance > maxTolerance)
  ) {
    return validationError(
      ["safety_tolerance"],
      `Input should be less than or equal to ${maxTolerance}`,
      "less_than_equal"
    )
  }
  if (aspect && body.aspect_ratio !== undefined && body.aspect_ratio !== null) {
    const match = /^(\d+):(\d+)$/.exec(String(body.aspect_ratio))
    const ratio = match === null ? NaN : Number(match[1]) / Number(match[2])
    if (!(ratio <= 21 / 9 + 1e-9 && ratio >= 9 / 21 - 1e-9)) {
      return validationError(["aspect_ratio"], "Aspect ratio must be between 21:9 and 9:21", "value_error")
    }
  }
  if (body.webhook_url !== undefined && body.webhook_url !== null) {
    const url = String(body.webhook_url)
    if (url.length > 2083 || !/^https?:\/\//.test(url)) {
      return validationError(["webhook_url"], "Input should be a valid URL", "url_parsing")
    }
  }
  return undefined
}

const costOf = (model: string, body: Record<string, unknown>): { cost: number; outputMp: number } => {
  const width = typeof body.width === "number" && body.width > 0 ? body.width : 1024
  const height = typeof body.height === "number" && body.height > 0 ? body.height : 1024
  const outputMp = Math.round((width * height) / 1_048_576 * 100) / 100
  const price = prices[model] ?? 5
  if (typeof price === "number") return { cost: price, outputMp }
  const [first, further] = price
  return { cost: Math.round((first + further * Math.max(0, Math.ceil(outputMp) - 1)) * 100) / 100, outputMp }
}

const extensionOf = (body: Record<string, unknown>, model: string) =>
  typeof body.output_format === "string" ? body.output_format : model.startsWith("flux-kontext-") ? "png" : "jpeg"

/**
 * Starts the fake.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServerError.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const apiKey = options.apiKey ?? "bfl-test-key"
    const cluster = options.cluster ?? "cluster-eu"
    const ttl = Duration.toMillis(Duration.decode(options.resultTtl ?? Duration.seconds(600)))
    const retired = options.retiredModels ?? ["flux-pro"]
    const tasks = yield* Ref.make(new Map<string, Task>())
    const queued = yield* Ref.make<ReadonlyArray<ReadonlyArray<StatusStep>>>([])
    const credits = yield* Ref.make(options.credits ?? 10_000)
    const counter = yield* Ref.make(0)
    const urlRef = yield* Ref.make("")

    const authorized = (headers: Readonly<Record<string, string>>): FakeResponse.FakeResponse | undefined => {
      const key = headers["x-key"]
      if (key === undefined) return FakeResponse.json({ detail: "Not authenticated" }, { status: 403 })
      if (key !== apiKey) return FakeResponse.json({ detail: "Invalid API key" }, { status: 401 })
      return undefined
    }

    const submit: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const denied = authorized(request.headers)
        if (denied !== undefined) return denied
        const model = request.params.model!
        if (retired.includes(model)) {
          return FakeResponse.json({ detail: `Model ${model} has been retired; use flux-2-pro.` }, { status: 410 })
        }
        if (!(model in prices)) return FakeResponse.json({ detail: "Not Found" }, { status: 404 })
        const parsed = yield* Effect.either(request.json)
        if (parsed._tag === "Left" || typeof parsed.right !== "object" || parsed.right === null) {
          return FakeResponse.json({
            detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }]
          }, { status: 422 })
        }
        const body = parsed.right as Record<string, unknown>
        const invalid = validate(model, body)
        if (invalid !== undefined) return invalid
        const all = yield* Ref.get(tasks)
        const active = Array.from(all.values()).filter((t) => !t.finished).length
        const limit = options.maxActiveTasks ?? (model === "flux-kontext-max" ? 6 : 24)
        if (active >= limit) {
          return FakeResponse.json({
            detail: `Rate limit exceeded: you have ${active} active tasks (limit ${limit}). Wait for some to finish.`
          }, { status: 429 })
        }
        const { cost, outputMp } = costOf(model, body)
        const balance = yield* Ref.get(credits)
        if (balance < cost) {
          return FakeResponse.json({ detail: "Insufficient credits. Please add credits to your account." }, {
            status: 402
          })
        }
        yield* Ref.set(credits, balance - cost)
        const n = yield* Ref.updateAndGet(counter, (x) => x + 1)
        const id = `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`
        const scripted = yield* Ref.modify(queued, (q) => [q[0], q.slice(1)] as const)
        const steps = scripted ?? (options.steps ?? defaultSteps)(model, body)
        const webhook = typeof body.webhook_url === "string"
        const withPollingUrl = !webhook || options.webhookIncludesPollingUrl === true
        const now = yield* Clock.currentTimeMillis
        const task: Task = {
          id,
          model,
          body,
          cluster: withPollingUrl ? cluster : "",
          steps,
          polls: 0,
          createdAt: now,
          expiresAt: undefined,
          cost,
          finished: false
        }
        yield* Ref.update(tasks, (m) => new Map(m).set(id, task))
        const base = yield* Ref.get(urlRef)
        return FakeResponse.json({
          id,
          ...(withPollingUrl ? { polling_url: `${base}/${cluster}/v1/get_result?id=${id}` } : {}),
          ...(webhook ? { status: "Pending", webhook_url: body.webhook_url } : {}),
          cost,
          input_mp: 0,
          output_mp: outputMp
        })
      })

    const poll = (clusterOfPath: string): FakeRoute.Handler => (request) =>
      Effect.gen(function*() {
        const denied = authorized(request.headers)
        if (denied !== undefined) return denied
        const id = request.query.id
        if (id === undefined) {
          return FakeResponse.json({ detail: [{ loc: ["query", "id"], msg: "Field required", type: "missing" }] }, {
            status: 422
          })
        }
        const task = (yield* Ref.get(tasks)).get(id)
        // A task polled on a cluster that does not own it is unknown there, as on the real API.
        if (task === undefined || (task.cluster !== "" && task.cluster !== clusterOfPath)) {
          return FakeResponse.json({
            id,
            status: "Task not found",
            result: null,
            progress: null,
            details: null,
            preview: null
          })
        }
        const step = task.steps[Math.min(task.polls, task.steps.length - 1)]!
        const now = yield* Clock.currentTimeMillis
        const finished = terminal.has(step.status)
        const expiresAt = step.status === "Ready" ? task.expiresAt ?? now + ttl : task.expiresAt
        yield* Ref.update(tasks, (m) => new Map(m).set(id, { ...task, polls: task.polls + 1, finished, expiresAt }))
        if (step.httpStatus !== undefined) {
          return FakeResponse.json({ detail: step.status }, { status: step.httpStatus })
        }
        const base = yield* Ref.get(urlRef)
        const ext = extensionOf(task.body, task.model)
        const result = step.status === "Ready"
          ? step.result ?? {
            sample: `${base}/delivery/${task.cluster || "global"}/results/${id}/sample.${ext}?se=${
              encodeURIComponent(new Date(expiresAt!).toISOString())
            }&sig=fake-signature`,
            prompt: task.body.prompt ?? null,
            seed: typeof task.body.seed === "number" ? task.body.seed : 42,
            start_time: task.createdAt / 1000,
            end_time: now / 1000,
            duration: (now - task.createdAt) / 1000
          }
          : step.result ?? null
        return FakeResponse.json({
          id,
          status: step.status,
          result,
          progress: step.progress ?? null,
          details: step.details ?? null,
          preview: null
        })
      })

    const delivery: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const task = (yield* Ref.get(tasks)).get(request.params.id!)
        const now = yield* Clock.currentTimeMillis
        if (task === undefined || task.expiresAt === undefined || now >= task.expiresAt) {
          return FakeResponse.text(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Signed expiry time has passed.</Message></Error>",
            { status: 403, headers: { "content-type": "application/xml" } }
          )
        }
        const file = request.params.file ?? ""
        const ext = file.slice(file.lastIndexOf(".") + 1)
        const sample = Samples.image(ext)
        return FakeResponse.bytes(sample.bytes, { headers: { "content-type": sample.mediaType } })
      })

    const server = yield* FakeServer.make({
      routes: [
        FakeRoute.get(
          "/v1/credits",
          (request) =>
            Effect.map(Ref.get(credits), (c) => authorized(request.headers) ?? FakeResponse.json({ credits: c }))
        ),
        FakeRoute.get("/v1/get_result", poll("")),
        FakeRoute.get("/:cluster/v1/get_result", (request) => poll(request.params.cluster!)(request)),
        FakeRoute.get("/delivery/:cluster/results/:id/:file", delivery),
        FakeRoute.post("/v1/:model", submit)
      ]
    })
    yield* Ref.set(urlRef, server.url)

    return {
      server,
      url: server.url,
      apiKey,
      enqueue: (...steps) => Ref.update(queued, (q) => [...q, ...steps]),
      tasks: Effect.map(Ref.get(tasks), (m) => Array.from(m.values())),
      setCredits: (c) => Ref.set(credits, c),
      credits: Ref.get(credits),
      expireResults: Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(tasks, (m) =>
          new Map(
            Array.from(
              m.entries(),
              ([id, t]) => [id, t.expiresAt === undefined ? t : { ...t, expiresAt: now }] as const
            )
          )))
    } satisfies Service
  })

/**
 * The fake as a layer.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<FakeBfl, FakeServerError.FakeServerError> =>
  Layer.scoped(FakeBfl, make(options))
