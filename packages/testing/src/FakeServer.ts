/**
 * A fake HTTP server on `127.0.0.1` (random port) for testing provider clients against the real
 * network stack: declarative routes, a request log, scripted replies and fault injection.
 *
 * ```ts
 * const server = yield* FakeServer.make({
 *   routes: [FakeRoute.post("/v1/images/generations", FakeResponse.json({ data: [] }))]
 * })
 * yield* server.script({ method: "POST", path: "/v1/images/generations" }, [
 *   Fault.rateLimited({ retryAfterSeconds: 3 }),
 *   Fault.status(503)
 * ])
 * // call `${server.url}/v1/images/generations` ... then:
 * const submissions = yield* server.count({ method: "POST", path: "/v1/images/generations" })
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Http from "node:http"
import * as FakeRequest from "./FakeRequest.js"
import * as FakeResponse from "./FakeResponse.js"
import * as FakeRoute from "./FakeRoute.js"
import * as Fault from "./Fault.js"
import * as PathPattern from "./internal/pathPattern.js"
import * as Send from "./internal/send.js"

/**
 * The only address a fake server listens on.
 *
 * @since 0.1.0
 * @category Constants
 */
export const hostname = "127.0.0.1" as const

/**
 * The server could not start listening.
 *
 * @since 0.1.0
 * @category Errors
 */
export class FakeServerError
  extends Schema.TaggedError<FakeServerError>("@image-gen/testing/FakeServer/FakeServerError")("FakeServerError", {
    reason: Schema.Literal("Listen"),
    port: Schema.Number,
    cause: Schema.optional(Schema.Defect)
  })
{
  override get message(): string {
    return `FakeServer could not listen on ${hostname}:${this.port}`
  }
}

/**
 * Selects requests, for `script`, `count` and `requestsMatching`.
 *
 * - `{ method, path }`: `method` is case-insensitive (`"*"` or omitted: any method); `path` is a
 *   route pattern (`/v1/predictions/:id`, `/files/*`; omitted: any path).
 * - A `FakeRoute`: the requests that route would handle.
 * - A predicate on the recorded request.
 *
 * @since 0.1.0
 * @category Models
 */
export type RequestFilter =
  | FakeRoute.FakeRoute
  | { readonly method?: string | undefined; readonly path?: string | undefined }
  | ((request: FakeRequest.FakeRequest) => boolean)

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Routes, tried in order; the first whose method and path match handles the request. */
  readonly routes?: Iterable<FakeRoute.FakeRoute> | undefined
  /**
   * Answers requests that no route matches. By default: 404 (or 405 when the path matches a route
   * for another method) with a JSON body naming the request.
   */
  readonly fallback?: FakeRoute.Handler | Fault.Reply | undefined
  /** Defaults to 0 (a random free port). The host is always `127.0.0.1`. */
  readonly port?: number | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string
  readonly port: number
  /** Every request received so far, in the order their bodies finished arriving. */
  readonly requests: Effect.Effect<ReadonlyArray<FakeRequest.FakeRequest>>
  readonly requestsMatching: (filter: RequestFilter) => Effect.Effect<ReadonlyArray<FakeRequest.FakeRequest>>
  /** How many received requests match (all of them without a filter). */
  readonly count: (filter?: RequestFilter) => Effect.Effect<number>
  /**
   * Waits until at least `n` received requests match, then returns the matching requests. Useful
   * when the client calls the server from a background fiber.
   */
  readonly awaitCount: (filter: RequestFilter, n: number) => Effect.Effect<ReadonlyArray<FakeRequest.FakeRequest>>
  readonly clearRequests: Effect.Effect<void>
  /** Adds routes in front of the existing ones (so they take precedence). */
  readonly addRoutes: (...routes: ReadonlyArray<FakeRoute.FakeRoute>) => Effect.Effect<void>
  /**
   * Queues replies for the requests that match `filter`: each matching request consumes the next
   * reply, in order; once the queue is empty, requests go to their route again. Scripts are tried in
   * the order they were added, so scripting the same filter twice appends.
   */
  readonly script: (filter: RequestFilter, replies: Iterable<Fault.Reply>) => Effect.Effect<void>
  /** Queues replies for the next requests, whatever they are. */
  readonly scriptAll: (replies: Iterable<Fault.Reply>) => Effect.Effect<void>
  /** How many scripted replies have not been consumed yet. */
  readonly pendingScripts: Effect.Effect<number>
  readonly clearScripts: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeServer extends Context.Tag("@image-gen/testing/FakeServer")<FakeServer, Service>() {}

/**
 * Turns a filter into a predicate on requests.
 *
 * @since 0.1.0
 * @category Filters
 */
export const toPredicate = (filter: RequestFilter | undefined): (request: FakeRequest.FakeRequest) => boolean => {
  if (filter === undefined) return () => true
  if (typeof filter === "function") return filter
  if (FakeRoute.isFakeRoute(filter)) {
    const route = filter
    return (request) => FakeRoute.match(route, request) !== undefined
  }
  const method = filter.method === undefined || filter.method === "*" ? undefined : filter.method.toUpperCase()
  const path = filter.path === undefined ? undefined : PathPattern.compile(filter.path)
  return (request) =>
    (method === undefined || request.method === method) &&
    (path === undefined || path.match(request.path) !== undefined)
}

interface Script {
  readonly matches: (request: FakeRequest.FakeRequest) => boolean
  readonly replies: ReadonlyArray<Fault.Reply>
}

const flattenHeaders = (headers: Http.IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

const readBody = (req: Http.IncomingMessage): Effect.Effect<Uint8Array> =>
  Effect.async<Uint8Array>((resume) => {
    const chunks: Array<Buffer> = []
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
    }
    const onEnd = () => resume(Effect.succeed(Uint8Array.from(Buffer.concat(chunks))))
    const onError = (error: Error) => resume(Effect.die(error))
    req.on("data", onData)
    req.once("end", onEnd)
    req.once("error", onError)
    return Effect.sync(() => {
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", onError)
    })
  })

const toHandler = (handler: FakeRoute.Handler | Fault.Reply): FakeRoute.Handler =>
  typeof handler === "function" ? handler : () => Effect.succeed(handler)

const handlerFailed = (cause: Cause.Cause<unknown>): Fault.Reply =>
  FakeResponse.json(
    { error: { type: "fake_server_handler_error", message: Cause.pretty(cause), status: 500 } },
    { status: 500 }
  )

/** Runs a handler; failures and defects become a 500 reply, interruption is kept. */
const runHandler = (handler: FakeRoute.Handler, request: FakeRoute.RouteRequest): Effect.Effect<Fault.Reply> =>
  Effect.suspend(() => handler(request)).pipe(
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.succeed(handlerFailed(cause))
    )
  )

const withParams = (
  request: FakeRequest.FakeRequest,
  params: Readonly<Record<string, string>>
): FakeRoute.RouteRequest => ({ ...request, params })

const notFound = (request: FakeRequest.FakeRequest, routes: ReadonlyArray<FakeRoute.FakeRoute>): Fault.Reply => {
  const allowed = [
    ...new Set(routes.filter((route) => route.matchPath(request.path) !== undefined).map((route) => route.method))
  ]
  return allowed.length === 0 || allowed.includes("*")
    ? FakeResponse.json(
      { error: { message: `FakeServer: no route for ${request.method} ${request.path}`, status: 404 } },
      { status: 404 }
    )
    : FakeResponse.json(
      { error: { message: `FakeServer: ${request.method} is not allowed on ${request.path}`, status: 405 } },
      { status: 405, headers: { allow: allowed.join(", ") } }
    )
}

/**
 * Starts a fake server on `127.0.0.1`. It stops (closing every connection, hung ones included) when
 * the scope closes.
 *
 * Handlers and faults run on the live clock, even inside `it.effect`/`it.scoped` (the client on the
 * other side of the socket waits in real time anyway). A handler is interrupted if its client
 * disconnects before the reply is sent.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const log = yield* SubscriptionRef.make(Chunk.empty<FakeRequest.FakeRequest>())
    const routes = yield* Ref.make<ReadonlyArray<FakeRoute.FakeRoute>>(Array.from(options.routes ?? []))
    const scripts = yield* Ref.make<ReadonlyArray<Script>>([])
    const fallback = options.fallback === undefined ? undefined : toHandler(options.fallback)
    const liveClock = Clock.make()
    const run = yield* FiberSet.makeRuntime<never, void, never>()
    let seq = 0

    const takeScripted = (request: FakeRequest.FakeRequest) =>
      Ref.modify(scripts, (current): [Fault.Reply | undefined, ReadonlyArray<Script>] => {
        const index = current.findIndex((script) => script.replies.length > 0 && script.matches(request))
        if (index === -1) return [undefined, current]
        const script = current[index]
        const rest = script.replies.slice(1)
        const next = rest.length === 0
          ? [...current.slice(0, index), ...current.slice(index + 1)]
          : [...current.slice(0, index), { matches: script.matches, replies: rest }, ...current.slice(index + 1)]
        return [script.replies[0], next]
      })

    // level 0: scripted (passthrough -> route), 1: route (passthrough -> fallback), 2+: built-in 404
    const dispatch = (
      request: FakeRequest.FakeRequest,
      exchange: Send.Exchange,
      level: number
    ): Effect.Effect<void> =>
      Effect.gen(function*() {
        const current = yield* Ref.get(routes)
        if (level === 0) {
          for (const route of current) {
            const params = FakeRoute.match(route, request)
            if (params !== undefined) {
              const reply = yield* runHandler(route.handler, withParams(request, params))
              return yield* interpret(reply, request, exchange, 1)
            }
          }
        }
        if (level <= 1 && fallback !== undefined) {
          const reply = yield* runHandler(fallback, withParams(request, {}))
          return yield* interpret(reply, request, exchange, 2)
        }
        return yield* interpret(notFound(request, current), request, exchange, 2)
      })

    const interpret = (
      reply: Fault.Reply,
      request: FakeRequest.FakeRequest,
      exchange: Send.Exchange,
      level: number
    ): Effect.Effect<void> => {
      if (FakeResponse.isFakeResponse(reply)) return Send.sendResponse(exchange, reply)
      switch (reply._tag) {
        case "Respond":
          return Send.sendResponse(exchange, reply.response)
        case "Delay":
          return Effect.zipRight(Effect.sleep(reply.duration), interpret(reply.then, request, exchange, level))
        case "Passthrough":
          return dispatch(request, exchange, level)
        case "Hang":
          return Effect.never
        case "ResetBeforeResponse":
          return Send.resetBeforeResponse(exchange)
        case "CloseBeforeResponse":
          return Send.closeBeforeResponse(exchange)
        case "ResetMidBody":
        case "Truncated":
          return Send.partialBody(exchange, reply)
      }
    }

    const handle = (n: number, exchange: Send.Exchange): Effect.Effect<void> =>
      Effect.gen(function*() {
        const body = yield* readBody(exchange.req)
        const request = FakeRequest.make({
          seq: n,
          method: exchange.req.method,
          url: exchange.req.url ?? "/",
          headers: flattenHeaders(exchange.req.headers),
          body
        })
        yield* SubscriptionRef.update(log, Chunk.append(request))
        const scripted = yield* takeScripted(request)
        yield* interpret(scripted ?? Fault.passthrough, request, exchange, 0)
      }).pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.interrupt
            : Send.internalError(exchange, `FakeServer: ${Cause.pretty(cause)}`)
        ),
        Effect.withClock(liveClock)
      )

    const server = Http.createServer((req, res) => {
      seq += 1
      const fiber = run(handle(seq, { req, res }))
      res.once("close", () => {
        fiber.unsafeInterruptAsFork(fiber.id())
      })
    })
    server.on("clientError", (_error, socket) => {
      socket.destroy()
    })

    const requestedPort = options.port ?? 0
    yield* Effect.acquireRelease(
      Effect.async<void, FakeServerError>((resume) => {
        const onError = (cause: Error) =>
          resume(Effect.fail(new FakeServerError({ reason: "Listen", port: requestedPort, cause })))
        server.once("error", onError)
        server.listen(requestedPort, hostname, () => {
          server.off("error", onError)
          server.on("error", () => {})
          resume(Effect.void)
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )

    const address = server.address()
    const port = address !== null && typeof address === "object" ? address.port : requestedPort
    const matching = (filter: RequestFilter | undefined) => {
      const predicate = toPredicate(filter)
      return Effect.map(SubscriptionRef.get(log), (all) => Chunk.toReadonlyArray(Chunk.filter(all, predicate)))
    }

    return FakeServer.of({
      url: `http://${hostname}:${port}`,
      port,
      requests: Effect.map(SubscriptionRef.get(log), Chunk.toReadonlyArray),
      requestsMatching: matching,
      count: (filter) => Effect.map(matching(filter), (found) => found.length),
      awaitCount: (filter, n) => {
        const predicate = toPredicate(filter)
        return log.changes.pipe(
          Stream.map((all) => Chunk.toReadonlyArray(Chunk.filter(all, predicate))),
          Stream.filter((found) => found.length >= n),
          Stream.runHead,
          Effect.flatMap(Option.match({ onNone: () => Effect.never, onSome: Effect.succeed }))
        )
      },
      clearRequests: SubscriptionRef.set(log, Chunk.empty()),
      addRoutes: (...added) => Ref.update(routes, (current) => [...added, ...current]),
      script: (filter, replies) =>
        Effect.suspend(() => {
          const list = Array.from(replies)
          return list.length === 0
            ? Effect.void
            : Ref.update(scripts, (current) => [...current, { matches: toPredicate(filter), replies: list }])
        }),
      scriptAll: (replies) =>
        Effect.suspend(() => {
          const list = Array.from(replies)
          return list.length === 0
            ? Effect.void
            : Ref.update(scripts, (current) => [...current, { matches: () => true, replies: list }])
        }),
      pendingScripts: Effect.map(Ref.get(scripts), (current) => current.reduce((n, s) => n + s.replies.length, 0)),
      clearScripts: Ref.set(scripts, [])
    })
  })

/**
 * A layer that starts a fake server for the lifetime of the layer.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options?: Options): Layer.Layer<FakeServer, FakeServerError> =>
  Layer.scoped(FakeServer, make(options))
