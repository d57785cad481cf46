/**
 * Writing fake responses and faults to node:http sockets.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as Http from "node:http"
import type * as FakeResponse from "../FakeResponse.js"
import type * as Fault from "../Fault.js"

/** @internal */
export interface Exchange {
  readonly req: Http.IncomingMessage
  readonly res: Http.ServerResponse
}

const encoder = new TextEncoder()

/**
 * Completes when `register`'s callback is called or when the response closes, whichever comes first.
 */
const waitFor = (res: Http.ServerResponse, register: (done: () => void) => void): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    let completed = false
    const done = () => {
      if (completed) return
      completed = true
      resume(Effect.void)
    }
    res.once("close", done)
    register(done)
    return Effect.sync(() => {
      res.off("close", done)
    })
  })

const isOpen = (exchange: Exchange): boolean => !exchange.res.destroyed && !exchange.req.socket.destroyed

const writeChunk = (exchange: Exchange, chunk: Uint8Array | string): Effect.Effect<void> =>
  Effect.suspend(() =>
    isOpen(exchange)
      ? waitFor(exchange.res, (done) => {
        exchange.res.write(typeof chunk === "string" ? encoder.encode(chunk) : chunk, () => done())
      })
      : Effect.interrupt
  )

const endWith = (exchange: Exchange, status: number, headers: Record<string, string>, body: Uint8Array) =>
  Effect.suspend(() => {
    if (!isOpen(exchange)) return Effect.void
    exchange.res.writeHead(status, { ...headers, "content-length": String(body.length) })
    return waitFor(exchange.res, (done) => {
      exchange.res.end(body, () => done())
    })
  })

/** @internal */
export const internalError = (exchange: Exchange, message: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (exchange.res.headersSent) {
      exchange.req.socket.destroy()
      return Effect.void
    }
    return endWith(
      exchange,
      500,
      { "content-type": "application/json" },
      encoder.encode(JSON.stringify({ error: { type: "fake_server_error", message, status: 500 } }))
    )
  })

/** @internal */
export const sendResponse = (exchange: Exchange, response: FakeResponse.FakeResponse): Effect.Effect<void> => {
  const headers = { ...response.headers }
  const body = response.body
  switch (body._tag) {
    case "Empty":
      return endWith(exchange, response.status, headers, new Uint8Array(0))
    case "Text":
      return endWith(exchange, response.status, headers, encoder.encode(body.value))
    case "Bytes":
      return endWith(exchange, response.status, headers, body.value)
    case "Json":
      return Effect.try(() => JSON.stringify(body.value) ?? "null").pipe(
        Effect.matchEffect({
          onFailure: (error) =>
            internalError(exchange, `FakeResponse.json: the body cannot be serialised: ${String(error.error)}`),
          onSuccess: (json) => endWith(exchange, response.status, headers, encoder.encode(json))
        })
      )
    case "Stream":
      return Effect.suspend(() => {
        if (!isOpen(exchange)) return Effect.void
        delete headers["content-length"]
        exchange.res.writeHead(response.status, headers)
        exchange.res.flushHeaders()
        return Stream.runForEach(body.stream, (chunk) => writeChunk(exchange, chunk)).pipe(
          Effect.zipRight(waitFor(exchange.res, (done) => {
            exchange.res.end(() => done())
          })),
          Effect.catchAllDefect(() => Effect.sync(() => exchange.req.socket.destroy()))
        )
      })
  }
}

/** @internal */
export const resetBeforeResponse = (exchange: Exchange): Effect.Effect<void> =>
  Effect.sync(() => {
    exchange.req.socket.resetAndDestroy()
  })

/** @internal */
export const closeBeforeResponse = (exchange: Exchange): Effect.Effect<void> =>
  Effect.sync(() => {
    exchange.req.socket.destroy()
  })

/** @internal */
export const partialBody = (exchange: Exchange, fault: Fault.ResetMidBody | Fault.Truncated): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (!isOpen(exchange)) return Effect.void
    exchange.res.writeHead(fault.status, { ...fault.headers, "content-length": String(fault.body.length) })
    exchange.res.flushHeaders()
    const sent = fault.bytesSent > 0 ? writeChunk(exchange, fault.body.subarray(0, fault.bytesSent)) : Effect.void
    return sent.pipe(
      Effect.zipRight(
        fault._tag === "ResetMidBody"
          ? Effect.zipRight(
            Effect.sleep(fault.settle),
            Effect.sync(() => {
              exchange.req.socket.resetAndDestroy()
            })
          )
          : Effect.sync(() => {
            exchange.req.socket.end()
          })
      )
    )
  })
