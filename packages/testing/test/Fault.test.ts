import { assert, describe, it } from "@effect/vitest"
import { FakeResponse, FakeRoute, FakeServer, Fault } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import { errorCode, fetchE, fetchText, textE } from "./utils.js"

const ok = FakeRoute.all("/*", FakeResponse.json({ ok: true }))

const withFault = (fault: Fault.Reply) =>
  Effect.gen(function*() {
    const server = yield* FakeServer.make({ routes: [ok] })
    yield* server.scriptAll([fault])
    return server
  })

describe("Fault", () => {
  it.scopedLive("status with headers and a custom JSON body", () =>
    Effect.gen(function*() {
      const server = yield* withFault(
        Fault.status(400, { headers: { "x-request-id": "r1" }, body: { error: { code: "content_policy_violation" } } })
      )
      const { response, text } = yield* fetchText(server.url)
      assert.strictEqual(response.status, 400)
      assert.strictEqual(response.headers.get("x-request-id"), "r1")
      assert.strictEqual(response.headers.get("content-type"), "application/json")
      assert.deepStrictEqual(JSON.parse(text), { error: { code: "content_policy_violation" } })
    }))

  it.scopedLive("rateLimited sets Retry-After and retry-after-ms", () =>
    Effect.gen(function*() {
      const server = yield* withFault(Fault.rateLimited({ retryAfterSeconds: 2, retryAfterMs: 1500 }))
      const { response } = yield* fetchText(server.url)
      assert.strictEqual(response.status, 429)
      assert.strictEqual(response.headers.get("retry-after"), "2")
      assert.strictEqual(response.headers.get("retry-after-ms"), "1500")
    }))

  it.scopedLive("delay waits before answering (with the route, or with a given reply)", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({ routes: [ok] })
      yield* server.scriptAll([Fault.delay("150 millis"), Fault.delay(100, Fault.status(503))])
      let start = Date.now()
      const first = yield* fetchText(server.url)
      assert.isAtLeast(Date.now() - start, 140)
      assert.strictEqual(first.text, "{\"ok\":true}")
      start = Date.now()
      const second = yield* fetchText(server.url)
      assert.isAtLeast(Date.now() - start, 90)
      assert.strictEqual(second.response.status, 503)
    }))

  it.scopedLive("hang: the client's timeout fires", () =>
    Effect.gen(function*() {
      const server = yield* withFault(Fault.hang)
      const start = Date.now()
      const error = yield* Effect.flip(fetchE(server.url, { signal: AbortSignal.timeout(200) }))
      assert.isAtLeast(Date.now() - start, 190)
      assert.strictEqual((error as Error).name, "TimeoutError")
      assert.strictEqual(yield* server.count(), 1)
      // the next request is answered normally
      assert.strictEqual((yield* fetchText(server.url)).response.status, 200)
    }))

  it.scopedLive("resetBeforeResponse: fetch rejects with ECONNRESET", () =>
    Effect.gen(function*() {
      const server = yield* withFault(Fault.resetBeforeResponse)
      const error = yield* Effect.flip(fetchE(server.url, { method: "POST", body: "{}" }))
      assert.strictEqual(errorCode(error), "ECONNRESET")
      assert.strictEqual(yield* server.count({ method: "POST" }), 1)
      assert.strictEqual((yield* fetchText(server.url)).response.status, 200)
    }))

  it.scopedLive("closeBeforeResponse: fetch rejects", () =>
    Effect.gen(function*() {
      const server = yield* withFault(Fault.closeBeforeResponse)
      const error = yield* Effect.flip(fetchE(server.url))
      assert.instanceOf(error, TypeError)
      assert.strictEqual((yield* fetchText(server.url)).response.status, 200)
    }))

  it.scopedLive("resetMidBody: headers arrive, reading the body fails", () =>
    Effect.gen(function*() {
      const server = yield* withFault(
        Fault.resetMidBody({ body: "{\"data\":[{\"b64_json\":\"AAAA\"}]}", bytesSent: 10 })
      )
      const response = yield* fetchE(server.url)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers.get("content-length"), "30")
      const error = yield* Effect.flip(textE(response))
      assert.strictEqual(errorCode(error), "ECONNRESET")
      assert.strictEqual((yield* fetchText(server.url)).response.status, 200)
    }))

  it.scopedLive("truncated: content-length larger than the bytes sent, reading the body fails", () =>
    Effect.gen(function*() {
      const body = JSON.stringify({ data: [{ url: "http://127.0.0.1/a.png" }] })
      const server = yield* withFault(Fault.truncated({ body }))
      const response = yield* fetchE(server.url)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers.get("content-length"), String(body.length))
      const error = yield* Effect.flip(textE(response))
      assert.instanceOf(error, TypeError)
      assert.strictEqual((yield* fetchText(server.url)).response.status, 200)
    }))

  it.scopedLive("malformedJson: the body reads but does not parse", () =>
    Effect.gen(function*() {
      const server = yield* withFault(Fault.malformedJson())
      const { response, text } = yield* fetchText(server.url)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers.get("content-type"), "application/json")
      assert.throws(() => JSON.parse(text), SyntaxError)
    }))

  it.scopedLive("wrongContentType: an HTML page where JSON is expected", () =>
    Effect.gen(function*() {
      const server = yield* withFault(Fault.wrongContentType())
      const { response, text } = yield* fetchText(server.url)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers.get("content-type"), "text/html; charset=utf-8")
      assert.match(text, /^<!DOCTYPE html>/)
      const custom = yield* withFault(Fault.wrongContentType({ status: 502, contentType: "text/plain", body: "oops" }))
      const second = yield* fetchText(custom.url)
      assert.strictEqual(second.response.status, 502)
      assert.strictEqual(second.response.headers.get("content-type"), "text/plain")
      assert.strictEqual(second.text, "oops")
    }))

  it.scopedLive("a handler can answer with a fault", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({
        routes: [FakeRoute.get("/flaky", (req) =>
          Effect.succeed(req.query.fail === "1" ? Fault.resetBeforeResponse : FakeResponse.text("ok")))]
      })
      assert.strictEqual(errorCode(yield* Effect.flip(fetchE(`${server.url}/flaky?fail=1`))), "ECONNRESET")
      assert.strictEqual((yield* fetchText(`${server.url}/flaky`)).text, "ok")
    }))
})
