/**
 * Declarative routes for a `FakeServer`: a method, a path pattern and a handler.
 *
 * Path patterns:
 * - `:name` captures one segment (`/v1/predictions/:id`); a literal suffix may follow in the same
 *   segment (`/v1beta/models/:model:generateContent`).
 * - `*` or `*name` captures the rest of the path. At the end it matches zero or more segments
 *   (`/files/*`); in the middle it matches one or more (`/fal-ai/*model/requests/:id/status`).
 *   The capture is `params["*"]` unless named.
 * - Everything else is literal; a trailing slash on the request path is ignored.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import type * as FakeRequest from "./FakeRequest.js"
import type * as Fault from "./Fault.js"
import * as PathPattern from "./internal/pathPattern.js"

/**
 * @since 0.1.0
 * @category Type IDs
 */
export const TypeId: unique symbol = Symbol.for("@image-gen/testing/FakeRoute")

/**
 * @since 0.1.0
 * @category Type IDs
 */
export type TypeId = typeof TypeId

/**
 * A request as a route handler sees it: the recorded request plus the path parameters.
 *
 * @since 0.1.0
 * @category Models
 */
export interface RouteRequest extends FakeRequest.FakeRequest {
  readonly params: Readonly<Record<string, string>>
}

/**
 * A route handler. It may keep state (in a `Ref`, say) and may answer with a `Fault`. If it fails or
 * dies, the server answers 500 with the cause in a JSON body, so that the test sees it.
 *
 * @since 0.1.0
 * @category Models
 */
export type Handler = (request: RouteRequest) => Effect.Effect<Fault.Reply, unknown>

/**
 * Any HTTP method, or `"*"` for all of them.
 *
 * @since 0.1.0
 * @category Models
 */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "*" | (string & {})

/**
 * @since 0.1.0
 * @category Models
 */
export interface FakeRoute {
  readonly [TypeId]: TypeId
  /** Upper case, or `"*"`. */
  readonly method: string
  /** The path pattern, with a leading `/`. */
  readonly path: string
  readonly handler: Handler
  /** The path parameters when `path` matches this pattern, `undefined` otherwise. */
  readonly matchPath: (path: string) => Readonly<Record<string, string>> | undefined
}

/**
 * @since 0.1.0
 * @category Guards
 */
export const isFakeRoute = (u: unknown): u is FakeRoute => Predicate.hasProperty(u, TypeId)

/**
 * Builds a route. The handler may be a function returning an Effect, or a fixed reply.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (method: Method, path: string, handler: Handler | Fault.Reply): FakeRoute => {
  const pattern = PathPattern.compile(path)
  return {
    [TypeId]: TypeId,
    method: method.toUpperCase(),
    path: pattern.pattern,
    handler: typeof handler === "function" ? handler : () => Effect.succeed(handler),
    matchPath: pattern.match
  }
}

/**
 * @since 0.1.0
 * @category Constructors
 */
export const get = (path: string, handler: Handler | Fault.Reply): FakeRoute => make("GET", path, handler)

/**
 * @since 0.1.0
 * @category Constructors
 */
export const post = (path: string, handler: Handler | Fault.Reply): FakeRoute => make("POST", path, handler)

/**
 * @since 0.1.0
 * @category Constructors
 */
export const put = (path: string, handler: Handler | Fault.Reply): FakeRoute => make("PUT", path, handler)

/**
 * @since 0.1.0
 * @category Constructors
 */
export const patch = (path: string, handler: Handler | Fault.Reply): FakeRoute => make("PATCH", path, handler)

/**
 * @since 0.1.0
 * @category Constructors
 */
export const del = (path: string, handler: Handler | Fault.Reply): FakeRoute => make("DELETE", path, handler)

/**
 * A route for every method.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const all = (path: string, handler: Handler | Fault.Reply): FakeRoute => make("*", path, handler)

/**
 * Whether the method matches (`"*"` matches everything; `HEAD` also matches `GET` routes).
 *
 * @since 0.1.0
 * @category Matching
 */
export const matchesMethod = (self: FakeRoute, method: string): boolean => {
  const m = method.toUpperCase()
  return self.method === "*" || self.method === m || (m === "HEAD" && self.method === "GET")
}

/**
 * The path parameters when the request matches the route (method and path), `undefined` otherwise.
 *
 * @since 0.1.0
 * @category Matching
 */
export const match = (
  self: FakeRoute,
  request: { readonly method: string; readonly path: string }
): Readonly<Record<string, string>> | undefined =>
  matchesMethod(self, request.method) ? self.matchPath(request.path) : undefined
