/**
 * A faithful fake of fal.ai's queue, storage and CDN hosts on 127.0.0.1, for tests and offline examples.
 * One `FakeServer` serves all three under path prefixes: `{url}/queue` (queue.fal.run), `{url}/rest`
 * (rest.fal.ai) and `{url}/cdn` (the media CDN, which serves the result images it renders itself).
 *
 * It follows the reference: submit on any path depth, status/result/cancel under `owner/alias` only,
 * 202 while `IN_QUEUE` (with `queue_position`) and `IN_PROGRESS` (logs with `?logs=1`), 200 once
 * `COMPLETED`, the SSE status stream, result and cancel answers, fal's JSON error shapes, moderation,
 * expiring results and media, and the storage upload flow. Each status observation (a poll or an SSE
 * event) moves a request one step along its scenario, so tests are deterministic.
 *
 * @since 0.1.0
 */
import * as FakeImage from "@image-gen/testing/FakeImage"
import * as FakeResponse from "@image-gen/testing/FakeResponse"
import * as FakeRoute from "@image-gen/testing/FakeRoute"
import * as FakeServer from "@image-gen/testing/FakeServer"
import * as Fault from "@image-gen/testing/Fault"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { presetSizes } from "./internal/wire.js"

/**
 * How a submitted request ends.
 *
 * - `Success`: a result with images (see `Scenario.nsfw`).
 * - `ModelError`: the status ends `COMPLETED` (with `error`/`error_type` when `statusError` is given),
 *   and the result call answers `status` with `body`, as fal returns the model's own error.
 *
 * @since 0.1.0
 * @category Models
 */
export type Outcome =
  | { readonly _tag: "Success" }
  | {
    readonly _tag: "ModelError"
    readonly status: number
    readonly body: unknown
    readonly headers?: Readonly<Record<string, string>> | undefined
    readonly statusError?: { readonly error: string; readonly error_type?: string | undefined } | undefined
  }

/**
 * @since 0.1.0
 * @category Outcomes
 */
export const success: Outcome = { _tag: "Success" }

/**
 * A 422 validation error with FastAPI `detail` items.
 *
 * @since 0.1.0
 * @category Outcomes
 */
export const validationError = (
  items: ReadonlyArray<{ readonly loc: ReadonlyArray<string | number>; readonly msg: string; readonly type: string }>
): Outcome => ({
  _tag: "ModelError",
  status: 422,
  body: { detail: items.map((i) => ({ ...i, url: `https://docs.fal.ai/errors/#${i.type}` })) },
  statusError: { error: "Invalid status code: 422" }
})

/**
 * fal's content-policy refusal: 422 with a `content_policy_violation` detail item.
 *
 * @since 0.1.0
 * @category Outcomes
 */
export const contentPolicyViolation = (
  msg = "The content could not be processed because it contained material flagged by a content checker."
): Outcome => ({
  _tag: "ModelError",
  status: 422,
  body: {
    detail: [{
      loc: ["body", "prompt"],
      msg,
      type: "content_policy_violation",
      url: "https://docs.fal.ai/errors/#content_policy_violation"
    }]
  },
  statusError: { error: "Invalid status code: 422" }
})

/**
 * A request (infrastructure) error: the status says `COMPLETED` with `error`, the result answers
 * `{"detail", "error_type"}` with `X-Fal-Error-Type`.
 *
 * @since 0.1.0
 * @category Outcomes
 */
export const runnerError = (
  status = 503,
  errorType = "runner_disconnected",
  detail = "Runner disconnected"
): Outcome => ({
  _tag: "ModelError",
  status,
  body: { detail, error_type: errorType },
  headers: { "x-fal-error-type": errorType, "x-fal-retryable": "false" },
  statusError: { error: detail, error_type: errorType }
})

/**
 * The status says a clean `COMPLETED`, but the result call fails (`status`, fal-shaped body).
 *
 * @since 0.1.0
 * @category Outcomes
 */
export const resultFails = (status = 500, detail = "Internal Server Error"): Outcome => ({
  _tag: "ModelError",
  status,
  body: { detail, error_type: status >= 500 ? "internal_error" : "bad_request" }
})

/**
 * What happens to one submitted request.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Scenario {
  /** One `IN_QUEUE` observation per element, with that `queue_position`. Default `[1, 0]`. */
  readonly queuePositions?: ReadonlyArray<number> | undefined
  /** One `IN_PROGRESS` observation per element; each adds its log line. Default two lines. */
  readonly logs?: ReadonlyArray<string> | undefined
  readonly outcome?: Outcome | undefined
  /** `has_nsfw_concepts`: `true` flags every image, an array flags by index. Flagged images are black. */
  readonly nsfw?: boolean | ReadonlyArray<boolean> | undefined
  /** `metrics.inference_time` in seconds. Default 0.42. */
  readonly inferenceTime?: number | undefined
  /** The result answers 404 once this long has passed since completion (fal: 1 hour, 6 min if large). */
  readonly resultTtl?: Duration.DurationInput | undefined
  /** Image URLs carry `?expires=` and answer 403 once this long has passed since completion. */
  readonly mediaTtl?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** When set, only `Authorization: Key <apiKey>` is accepted; otherwise any `Key ...` is. */
  readonly apiKey?: string | undefined
  /** The scenario of requests that no queued or selected scenario covers. */
  readonly scenario?: Scenario | undefined
  /** Picks a scenario from the submitted endpoint and input (after queued scenarios). */
  readonly scenarioFor?: ((endpoint: string, input: unknown) => Scenario | undefined) | undefined
  /** Endpoints answering 404 on submit, as removed apps do; value = detail message. */
  readonly missingEndpoints?: Readonly<Record<string, string>> | undefined
  /** Serve the SSE status stream (default true; false answers 404 so clients poll). */
  readonly statusStream?: boolean | undefined
  /** Time between SSE events. Default 5 ms. */
  readonly streamInterval?: Duration.DurationInput | undefined
  /** Upper bound of `num_images` (422 above it). Default 4. */
  readonly maxImages?: number | undefined
  readonly port?: number | undefined
}

/**
 * A request as the fake keeps it.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Job {
  readonly requestId: string
  readonly endpoint: string
  /** `[namespace/]owner/alias`: the only prefix status, result and cancel are served under. */
  readonly app: string
  readonly input: unknown
  readonly webhookUrl: string | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly scenario: Scenario
  /** Status observations so far. */
  readonly step: number
  readonly cancelled: boolean
  readonly completedAt: number | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly server: FakeServer.Service
  /** The server root, `http://127.0.0.1:<port>`. */
  readonly url: string
  /** Use as `FAL_QUEUE_URL`. */
  readonly queueUrl: string
  /** Use as `FAL_REST_URL`. */
  readonly restUrl: string
  /** Every request submitted so far. */
  readonly jobs: Effect.Effect<ReadonlyArray<Job>>
  /** The next submissions take these scenarios, in order. */
  readonly enqueue: (...scenarios: ReadonlyArray<Scenario>) => Effect.Effect<void>
  /** Files uploaded through the storage API, by file URL. */
  readonly uploads: Effect.Effect<ReadonlyMap<string, { readonly contentType: string; readonly bytes: Uint8Array }>>
  /** Makes every media URL served so far answer 403 (expired). */
  readonly expireMedia: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeFal extends Context.Tag("@image-gen/fal/testing/FakeFal")<FakeFal, Service>() {}

/**
 * Request filters for `server.script` / `server.count`.
 *
 * @since 0.1.0
 * @category Filters
 */
export const filters = {
  submit: { method: "POST", path: "/queue/*" },
  status: { method: "GET", path: "/queue/*app/requests/:id/status" },
  statusStream: { method: "GET", path: "/queue/*app/requests/:id/status/stream" },
  result: { method: "GET", path: "/queue/*app/requests/:id" },
  cancel: { method: "PUT", path: "/queue/*app/requests/:id/cancel" },
  uploadInitiate: { method: "POST", path: "/rest/storage/upload/initiate" },
  uploadPut: { method: "PUT", path: "/cdn/upload/*" },
  media: { method: "GET", path: "/cdn/files/*" }
} as const

/**
 * fal's 429: `{"detail": ...}` with `Retry-After`.
 *
 * @since 0.1.0
 * @category Faults
 */
export const rateLimited = (retryAfterSeconds?: number): Fault.Fault =>
  Fault.rateLimited({
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    body: { detail: "Too many requests: concurrency limit reached", error_type: "rate_limited" }
  })

/**
 * A 5xx request error in fal's shape (`{"detail","error_type"}` + `X-Fal-Error-Type`).
 *
 * @since 0.1.0
 * @category Faults
 */
export const unavailable = (status = 503, errorType = "runner_scheduling_failure"): Fault.Fault =>
  Fault.status(status, {
    headers: { "x-fal-error-type": errorType },
    body: { detail: `Request failed: ${errorType}`, error_type: errorType }
  })

/**
 * @since 0.1.0
 * @category Faults
 */
export const unauthorized: Fault.Fault = Fault.status(401, { body: { detail: "Invalid API key" } })

const defaultScenario: Scenario = { queuePositions: [1, 0], logs: ["Loading model", "Generating: 100%"] }

/**
 * A solid-colour PNG of the given size.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const renderPng = (width: number, height: number, rgb: readonly [number, number, number]): Uint8Array =>
  FakeImage.png(width, height, rgb)

// --- helpers --------------------------------------------------------------------------------------

const namespaces = ["workflows", "comfy"]

const appOf = (endpoint: string): string | undefined => {
  const parts = endpoint.split("/").filter((p) => p !== "")
  const ns = namespaces.includes(parts[0] ?? "") ? 1 : 0
  return parts.length < ns + 2 ? undefined : parts.slice(0, ns + 2).join("/")
}

const asRecord = (u: unknown): Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : {}

const longEdge = (resolution: unknown) => resolution === "2K" ? 2048 : resolution === "4K" ? 4096 : 1024

/** The output size a fal model would produce for this input. */
const sizeOf = (input: Record<string, unknown>): { width: number; height: number } => {
  const size = input.image_size
  if (typeof size === "string" && presetSizes[size] !== undefined) return presetSizes[size]
  const o = asRecord(size)
  if (typeof o.width === "number" && typeof o.height === "number") return { width: o.width, height: o.height }
  if (typeof input.aspect_ratio === "string" && /^\d+:\d+$/.test(input.aspect_ratio)) {
    const [w, h] = input.aspect_ratio.split(":").map(Number) as [number, number]
    const long = longEdge(input.resolution)
    const r8 = (x: number) => Math.max(8, Math.round(x / 8) * 8)
    return w >= h ? { width: r8(long), height: r8((long * h) / w) } : { width: r8((long * w) / h), height: r8(long) }
  }
  return presetSizes.landscape_4_3!
}

type Phase =
  | { readonly _tag: "Queued"; readonly position: number }
  | { readonly _tag: "Running"; readonly logs: ReadonlyArray<string> }
  | { readonly _tag: "Completed" }

const phasesOf = (scenario: Scenario): ReadonlyArray<Phase> => {
  const queued = (scenario.queuePositions ?? defaultScenario.queuePositions!).map((position): Phase => ({
    _tag: "Queued",
    position
  }))
  const logs = scenario.logs ?? defaultScenario.logs!
  const running = logs.length === 0
    ? [{ _tag: "Running", logs: [] } as Phase]
    : logs.map((_, i): Phase => ({ _tag: "Running", logs: logs.slice(0, i + 1) }))
  return [...queued, ...running, { _tag: "Completed" }]
}

const validate = (input: Record<string, unknown>, maxImages: number) => {
  const items: Array<{ loc: Array<string | number>; msg: string; type: string }> = []
  if (typeof input.prompt !== "string" || input.prompt === "") {
    items.push({ loc: ["body", "prompt"], msg: "Field required", type: "missing" })
  }
  const n = input.num_images
  if (n !== undefined && (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > maxImages)) {
    items.push({
      loc: ["body", "num_images"],
      msg: `Input should be less than or equal to ${maxImages}`,
      type: "less_than_equal"
    })
  }
  const { height, width } = sizeOf(input)
  if (width > 14142 || height > 14142) {
    items.push({
      loc: ["body", "image_size", "width"],
      msg: "Input should be less than or equal to 14142",
      type: "less_than_equal"
    })
  }
  return items
}

/**
 * Starts the fake on 127.0.0.1 (random port). It stops with the scope.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServer.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* FakeServer.make({ ...(options.port === undefined ? {} : { port: options.port }) })
    const url = server.url
    const queueUrl = `${url}/queue`
    const restUrl = `${url}/rest`
    const jobs = yield* Ref.make(new Map<string, Job>())
    const queued = yield* Ref.make<ReadonlyArray<Scenario>>([])
    const files = yield* Ref.make(
      new Map<
        string,
        { contentType: string; bytes: Uint8Array | (() => Uint8Array); expiresAt?: number; fileUrl?: string }
      >()
    )
    const uploadTokens = yield* Ref.make(new Map<string, { fileId: string; fileUrl: string; contentType: string }>())
    const maxImages = options.maxImages ?? 4
    const interval = options.streamInterval ?? Duration.millis(5)

    const now = Effect.sync(() => Date.now())

    const checkAuth = (headers: Readonly<Record<string, string>>): Option.Option<Fault.Reply> => {
      const auth = headers["authorization"]
      if (auth === undefined || !auth.startsWith("Key ") || auth.length <= 4) {
        return Option.some(FakeResponse.json({ detail: "No credentials provided: use Authorization: Key <FAL_KEY>" }, {
          status: 401
        }))
      }
      if (options.apiKey !== undefined && auth !== `Key ${options.apiKey}`) {
        return Option.some(FakeResponse.json({ detail: "Invalid API key" }, { status: 401 }))
      }
      return Option.none()
    }

    const withAuth = (handler: FakeRoute.Handler): FakeRoute.Handler => (request) =>
      Option.match(checkAuth(request.headers), { onNone: () => handler(request), onSome: Effect.succeed })

    const urlsOf = (job: { app: string; requestId: string }) => {
      const base = `${queueUrl}/${job.app}/requests/${job.requestId}`
      return { response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` }
    }

    const statusBody = (job: Job, phase: Phase, logs: boolean) => {
      const common = { request_id: job.requestId, ...urlsOf(job) }
      const toLog = (message: string, i: number) => ({
        message,
        level: "INFO",
        source: "USER",
        timestamp: new Date(1_767_225_600_000 + i * 1000).toISOString()
      })
      if (phase._tag === "Queued") return { status: "IN_QUEUE", queue_position: phase.position, ...common }
      if (phase._tag === "Running") {
        return { status: "IN_PROGRESS", logs: logs ? phase.logs.map(toLog) : null, ...common }
      }
      const outcome = job.scenario.outcome ?? success
      const error = job.cancelled
        ? { error: "Request cancelled by the client", error_type: "client_cancelled" }
        : outcome._tag === "ModelError" && outcome.statusError !== undefined
        ? { error: outcome.statusError.error, error_type: outcome.statusError.error_type ?? null }
        : {}
      const allLogs = phasesOf(job.scenario).flatMap((p) => p._tag === "Running" ? p.logs : []).slice(-1)
      return {
        status: "COMPLETED",
        logs: logs ? allLogs.map(toLog) : null,
        metrics: job.cancelled ? {} : { inference_time: job.scenario.inferenceTime ?? 0.42 },
        ...common,
        ...error
      }
    }

    /** Moves a job one step (a status observation) and returns the phase it is in now. */
    const observe = (requestId: string) =>
      Effect.flatMap(
        now,
        (t) =>
          Ref.modify(jobs, (map): [Option.Option<{ job: Job; phase: Phase }>, Map<string, Job>] => {
            const job = map.get(requestId)
            if (job === undefined) return [Option.none(), map]
            const phases = phasesOf(job.scenario)
            const index = job.cancelled ? phases.length - 1 : Math.min(job.step, phases.length - 1)
            const phase = phases[index]!
            const next: Job = {
              ...job,
              step: job.step + 1,
              completedAt: phase._tag === "Completed" ? job.completedAt ?? t : job.completedAt
            }
            const copy = new Map(map)
            copy.set(requestId, next)
            return [Option.some({ job: next, phase }), copy]
          })
      )

    const findJob = (params: Readonly<Record<string, string>>) =>
      Effect.map(Ref.get(jobs), (map) => {
        const job = map.get(params.id ?? "")
        return job !== undefined && job.app === params.app ? Option.some(job) : Option.none<Job>()
      })

    const notFound = FakeResponse.json({ detail: "Request not found" }, { status: 404 })
    const wantsLogs = (query: Readonly<Record<string, string>>) => query.logs === "1" || query.logs === "true"

    const submit: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const endpoint = (request.params["*"] ?? "").replace(/\/+$/, "")
        const app = appOf(endpoint)
        if (app === undefined) return FakeResponse.json({ detail: `Invalid app id: ${endpoint}` }, { status: 404 })
        const missing = options.missingEndpoints?.[endpoint]
        if (missing !== undefined) return FakeResponse.json({ detail: missing }, { status: 404 })
        const input = yield* Effect.orElseSucceed(request.json, () => undefined)
        if (typeof input !== "object" || input === null) {
          return FakeResponse.json({
            detail: [{ loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type" }]
          }, { status: 422 })
        }
        const next = yield* Ref.modify(queued, (q) => [q[0], q.slice(1)] as const)
        const scenario = next ?? options.scenarioFor?.(endpoint, input) ?? options.scenario ?? defaultScenario
        const requestId = crypto.randomUUID()
        const job: Job = {
          requestId,
          endpoint,
          app,
          input,
          webhookUrl: request.query.fal_webhook,
          headers: request.headers,
          scenario,
          step: 0,
          cancelled: false,
          completedAt: undefined
        }
        yield* Ref.update(jobs, (map) => new Map(map).set(requestId, job))
        const position = phasesOf(scenario)[0]
        return FakeResponse.json({
          status: "IN_QUEUE",
          request_id: requestId,
          ...urlsOf(job),
          queue_position: position?._tag === "Queued" ? position.position : 0
        }, { headers: { "x-fal-request-id": requestId } })
      })

    const status: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const found = yield* findJob(request.params)
        if (Option.isNone(found)) return notFound
        const observed = yield* observe(found.value.requestId)
        if (Option.isNone(observed)) return notFound
        const { job, phase } = observed.value
        return FakeResponse.json(statusBody(job, phase, wantsLogs(request.query)), {
          status: phase._tag === "Completed" ? 200 : 202,
          headers: { "x-fal-request-id": job.requestId }
        })
      })

    const statusStream: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        if (options.statusStream === false) return FakeResponse.json({ detail: "Not Found" }, { status: 404 })
        const found = yield* findJob(request.params)
        if (Option.isNone(found)) return notFound
        const logs = wantsLogs(request.query)
        const events = Stream.repeatEffect(observe(found.value.requestId)).pipe(
          Stream.filterMap((o) => o),
          Stream.takeUntil(({ phase }) => phase._tag === "Completed"),
          Stream.tap(() => Effect.sleep(interval)),
          Stream.map(({ job, phase }) => FakeResponse.formatSseEvent({ data: statusBody(job, phase, logs) }))
        )
        return FakeResponse.stream(events, {
          headers: { "content-type": "text/event-stream", "cache-control": "no-cache" }
        })
      })

    const result: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const found = yield* findJob(request.params)
        if (Option.isNone(found)) return notFound
        const job = found.value
        const t = yield* now
        if (job.completedAt === undefined) {
          return FakeResponse.json({ detail: "Request is still in progress" }, { status: 400 })
        }
        const ttl = job.scenario.resultTtl
        if (ttl !== undefined && t - job.completedAt >= Duration.toMillis(Duration.decode(ttl))) return notFound
        const headers = { "x-fal-request-id": job.requestId }
        if (job.cancelled) {
          return FakeResponse.json({ detail: "Request cancelled by the client", error_type: "client_cancelled" }, {
            status: 499,
            headers: { ...headers, "x-fal-error-type": "client_cancelled" }
          })
        }
        const input = asRecord(job.input)
        const invalid = validate(input, maxImages)
        if (invalid.length > 0) {
          return FakeResponse.json({
            detail: invalid.map((i) => ({ ...i, url: `https://docs.fal.ai/errors/#${i.type}` }))
          }, { status: 422, headers })
        }
        const outcome = job.scenario.outcome ?? success
        if (outcome._tag === "ModelError") {
          return FakeResponse.json(outcome.body, {
            status: outcome.status,
            headers: { ...headers, ...outcome.headers }
          })
        }
        const n = typeof input.num_images === "number" ? input.num_images : 1
        const { height, width } = sizeOf(input)
        const nsfw = job.scenario.nsfw
        const flags = Array.from({ length: n }, (_, i) => Array.isArray(nsfw) ? nsfw[i] === true : nsfw === true)
        const mediaTtl = job.scenario.mediaTtl
        const expiresAt = mediaTtl === undefined
          ? undefined
          : job.completedAt + Duration.toMillis(Duration.decode(mediaTtl))
        const seed = typeof input.seed === "number" ? input.seed : 1830466211
        const images = yield* Effect.forEach(flags, (flagged, i) =>
          Effect.gen(function*() {
            const fileId = `${job.requestId}-${i}`
            const rgb: readonly [number, number, number] = flagged
              ? [0, 0, 0]
              : [(seed * 37 + i * 91) % 256, (seed * 17 + i * 53) % 256, (seed * 7 + i * 29) % 256]
            yield* Ref.update(files, (map) =>
              new Map(map).set(fileId, {
                contentType: "image/png",
                bytes: () => renderPng(width, height, rgb),
                ...(expiresAt === undefined ? {} : { expiresAt })
              }))
            const query = expiresAt === undefined ? "" : `?expires=${expiresAt}`
            return {
              url: `${url}/cdn/files/${fileId}/output_${i}.png${query}`,
              width,
              height,
              content_type: "image/png",
              file_name: `output_${i}.png`
            }
          }))
        return FakeResponse.json({
          images,
          timings: { inference: job.scenario.inferenceTime ?? 0.42 },
          seed,
          has_nsfw_concepts: flags,
          prompt: input.prompt
        }, { headers })
      })

    const cancel: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const found = yield* findJob(request.params)
        if (Option.isNone(found)) return FakeResponse.json({ status: "NOT_FOUND" }, { status: 404 })
        const job = found.value
        if (job.completedAt !== undefined || job.cancelled) {
          return FakeResponse.json({ status: "ALREADY_COMPLETED" }, { status: 400 })
        }
        const t = yield* now
        yield* Ref.update(jobs, (map) => new Map(map).set(job.requestId, { ...job, cancelled: true, completedAt: t }))
        return FakeResponse.json({ status: "CANCELLATION_REQUESTED" }, { status: 202 })
      })

    const initiate: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const body = asRecord(yield* Effect.orElseSucceed(request.json, () => ({})))
        const contentType = typeof body.content_type === "string" ? body.content_type : "application/octet-stream"
        const fileName = typeof body.file_name === "string" ? body.file_name : "upload.bin"
        const token = crypto.randomUUID()
        const fileId = crypto.randomUUID()
        const fileUrl = `${url}/cdn/files/${fileId}/${encodeURIComponent(fileName)}`
        yield* Ref.update(uploadTokens, (map) => new Map(map).set(token, { fileId, fileUrl, contentType }))
        return FakeResponse.json({
          upload_url: `${url}/cdn/upload/${token}?X-Fal-Signature=fake-${token.slice(0, 8)}`,
          file_url: fileUrl
        })
      })

    const parts = yield* Ref.make(new Map<string, Map<number, Uint8Array>>())

    const uploadPut: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const [token, part] = (request.params["*"] ?? "").split("/")
        const target = (yield* Ref.get(uploadTokens)).get(token ?? "")
        if (target === undefined || request.query["X-Fal-Signature"] === undefined) {
          return FakeResponse.json({ detail: "Invalid or expired upload URL" }, { status: 403 })
        }
        if (part !== undefined && part !== "") {
          const n = Number(part)
          yield* Ref.update(parts, (map) => {
            const copy = new Map(map)
            copy.set(token!, new Map(copy.get(token!) ?? []).set(n, request.body))
            return copy
          })
          return FakeResponse.json({ partNumber: n, etag: `"etag-${n}"` })
        }
        const contentType = request.headers["content-type"] ?? target.contentType
        yield* Ref.update(files, (map) =>
          new Map(map).set(target.fileId, { contentType, bytes: request.body, fileUrl: target.fileUrl }))
        return FakeResponse.empty({ status: 200 })
      })

    const uploadComplete: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const target = (yield* Ref.get(uploadTokens)).get(request.params.token ?? "")
        if (target === undefined) return FakeResponse.json({ detail: "Invalid upload" }, { status: 403 })
        const received = (yield* Ref.get(parts)).get(request.params.token ?? "") ?? new Map()
        const ordered = Array.from(received.entries()).sort(([a], [b]) => a - b).map(([, b]) => Buffer.from(b))
        yield* Ref.update(files, (map) =>
          new Map(map).set(target.fileId, {
            contentType: target.contentType,
            bytes: Uint8Array.from(Buffer.concat(ordered)),
            fileUrl: target.fileUrl
          }))
        return FakeResponse.json({ ok: true })
      })

    const media: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const fileId = (request.params["*"] ?? "").split("/")[0] ?? ""
        const file = (yield* Ref.get(files)).get(fileId)
        if (file === undefined) return FakeResponse.text("Not Found", { status: 404 })
        const t = yield* now
        if (file.expiresAt !== undefined && t >= file.expiresAt) {
          return FakeResponse.text("Access Denied: the URL has expired", { status: 403 })
        }
        const bytes = typeof file.bytes === "function" ? file.bytes() : file.bytes
        return FakeResponse.bytes(bytes, { headers: { "content-type": file.contentType } })
      })

    yield* server.addRoutes(
      FakeRoute.post("/rest/storage/upload/initiate", withAuth(initiate)),
      FakeRoute.post("/rest/storage/upload/initiate-multipart", withAuth(initiate)),
      FakeRoute.post("/cdn/upload/:token/complete", uploadComplete),
      FakeRoute.put("/cdn/upload/*", uploadPut),
      FakeRoute.get("/cdn/files/*", media),
      FakeRoute.get(filters.statusStream.path, withAuth(statusStream)),
      FakeRoute.get(filters.status.path, withAuth(status)),
      FakeRoute.put(filters.cancel.path, withAuth(cancel)),
      FakeRoute.get(filters.result.path, withAuth(result)),
      FakeRoute.post("/queue/*", withAuth(submit))
    )

    return FakeFal.of({
      server,
      url,
      queueUrl,
      restUrl,
      jobs: Effect.map(Ref.get(jobs), (map) => Array.from(map.values())),
      enqueue: (...scenarios) => Ref.update(queued, (q) => [...q, ...scenarios]),
      uploads: Effect.gen(function*() {
        const map = yield* Ref.get(files)
        const out = new Map<string, { contentType: string; bytes: Uint8Array }>()
        for (const file of map.values()) {
          if (typeof file.bytes !== "function" && file.fileUrl !== undefined) {
            out.set(file.fileUrl, { contentType: file.contentType, bytes: file.bytes })
          }
        }
        return out
      }),
      expireMedia: Effect.flatMap(now, (t) =>
        Ref.update(files, (map) => {
          const copy = new Map(map)
          for (const [id, file] of copy) copy.set(id, { ...file, expiresAt: t })
          return copy
        }))
    })
  })

/**
 * The fake as a layer (scoped to the layer's lifetime).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options?: Options): Layer.Layer<FakeFal, FakeServer.FakeServerError> =>
  Layer.scoped(FakeFal, make(options))
