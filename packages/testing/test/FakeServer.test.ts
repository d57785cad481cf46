import { assert, describe, it, layer } from "@effect/vitest"
import { FakeRequest, FakeResponse, FakeRoute, FakeServer, Fault } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { errorCode, fetchE, fetchJson, fetchText, textE } from "./utils.js"

const imagesRoute = FakeRoute.post(
  "/v1/images/generations",
  FakeResponse.json({ data: [{ url: "http://127.0.0.1/img.png" }] })
)

describe("FakeServer", () => {
  it.scopedLive("listens on 127.0.0.1 with a random port", () =>
    Effect.gen(function*() {
      const a = yield* FakeServer.make()
      const b = yield* FakeServer.make()
      assert.match(a.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.isAbove(a.port, 0)
      assert.notStrictEqual(a.port, b.port)
      assert.strictEqual(a.url, `http://127.0.0.1:${a.port}`)
    }))

  it.scopedLive("routes with params, wildcards and the request log", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({
        routes: [
          FakeRoute.get("/fal-ai/:owner/:alias/requests/:id/status", (req) =>
            Effect.succeed(FakeResponse.json({ params: req.params, query: req.query }))),
          FakeRoute.get("/queue/*model/requests/:id", (req) =>
            Effect.succeed(FakeResponse.json(req.params))),
          FakeRoute.post(
            "/v1beta/models/:model:generateContent",
            (req) => Effect.succeed(FakeResponse.json(req.params))
          ),
          FakeRoute.all("/files/*", (req) => Effect.succeed(FakeResponse.text(`${req.method} ${req.params["*"]}`))),
          FakeRoute.post("/echo", (req) =>
            Effect.map(
              req.json,
              (body) => FakeResponse.json({ got: body }, { status: 201, headers: { "X-Echo": "1" } })
            ))
        ]
      })

      const status = yield* fetchJson(`${server.url}/fal-ai/flux/dev/requests/req%201/status?logs=1&logs=2`)
      assert.strictEqual(status.response.status, 200)
      assert.deepStrictEqual(status.json, {
        params: { owner: "flux", alias: "dev", id: "req 1" },
        query: { logs: "1" }
      })

      const deep = yield* fetchJson(`${server.url}/queue/fal-ai/flux/dev/requests/abc`)
      assert.deepStrictEqual(deep.json, { model: "fal-ai/flux/dev", id: "abc" })

      const gemini = yield* fetchJson(`${server.url}/v1beta/models/gemini-2.5:generateContent`, { method: "POST" })
      assert.deepStrictEqual(gemini.json, { model: "gemini-2.5" })

      assert.strictEqual((yield* fetchText(`${server.url}/files/a/b.png`)).text, "GET a/b.png")
      assert.strictEqual((yield* fetchText(`${server.url}/files`, { method: "DELETE" })).text, "DELETE ")

      const echo = yield* fetchJson(`${server.url}/echo?x=1`, {
        method: "POST",
        headers: { "content-type": "application/json", Authorization: "Bearer sk-test" },
        body: JSON.stringify({ prompt: "a cat" })
      })
      assert.strictEqual(echo.response.status, 201)
      assert.strictEqual(echo.response.headers.get("x-echo"), "1")
      assert.deepStrictEqual(echo.json, { got: { prompt: "a cat" } })

      const log = yield* server.requests
      assert.strictEqual(log.length, 6)
      const last = log[5]
      assert.strictEqual(last.method, "POST")
      assert.strictEqual(last.path, "/echo")
      assert.strictEqual(last.url, "/echo?x=1")
      assert.deepStrictEqual(last.query, { x: "1" })
      assert.strictEqual(last.headers["authorization"], "Bearer sk-test")
      assert.strictEqual(last.text, "{\"prompt\":\"a cat\"}")
      assert.deepStrictEqual(Array.from(last.body), Array.from(new TextEncoder().encode(last.text)))
      assert.deepStrictEqual(yield* last.json, { prompt: "a cat" })
      assert.deepStrictEqual(
        yield* FakeRequest.schemaBodyJson(Schema.Struct({ prompt: Schema.String }))(last),
        { prompt: "a cat" }
      )
      assert.deepStrictEqual(log[0].searchParams.getAll("logs"), ["1", "2"])
      assert.deepStrictEqual(
        log.map((r) => r.seq).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6]
      )

      yield* server.clearRequests
      assert.strictEqual((yield* server.requests).length, 0)
    }))

  it.scopedLive("answers 404 and 405 by default, or uses the fallback", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({ routes: [imagesRoute] })
      const missing = yield* fetchJson(`${server.url}/nope`)
      assert.strictEqual(missing.response.status, 404)
      assert.deepStrictEqual(missing.json, { error: { message: "FakeServer: no route for GET /nope", status: 404 } })
      const wrongMethod = yield* fetchText(`${server.url}/v1/images/generations`)
      assert.strictEqual(wrongMethod.response.status, 405)
      assert.strictEqual(wrongMethod.response.headers.get("allow"), "POST")

      const withFallback = yield* FakeServer.make({
        fallback: (req) =>
          Effect.succeed(FakeResponse.json({ error: { message: `unknown ${req.path}` } }, { status: 400 }))
      })
      const other = yield* fetchJson(`${withFallback.url}/x`)
      assert.strictEqual(other.response.status, 400)
      assert.deepStrictEqual(other.json, { error: { message: "unknown /x" } })
    }))

  it.scopedLive("a failing handler answers 500 with the cause", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({
        routes: [
          FakeRoute.post("/json", (req) => Effect.map(req.json, () => FakeResponse.empty())),
          FakeRoute.get("/die", () => Effect.die("boom"))
        ]
      })
      const bad = yield* fetchJson(`${server.url}/json`, { method: "POST", body: "not json" })
      assert.strictEqual(bad.response.status, 500)
      assert.include(JSON.stringify(bad.json), "FakeRequestError")
      const died = yield* fetchJson(`${server.url}/die`)
      assert.strictEqual(died.response.status, 500)
      assert.include(JSON.stringify(died.json), "boom")
    }))

  it.scopedLive("scripted replies are consumed in order, then the route answers", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({ routes: [imagesRoute] })
      yield* server.script({ method: "POST", path: "/v1/images/generations" }, [
        Fault.rateLimited({ retryAfterSeconds: 3 }),
        Fault.status(503)
      ])
      assert.strictEqual(yield* server.pendingScripts, 2)
      const post = () => fetchJson(`${server.url}/v1/images/generations`, { method: "POST", body: "{}" })

      // a request that does not match the script is not affected
      assert.strictEqual((yield* fetchText(`${server.url}/v1/images/generations`)).response.status, 405)

      const first = yield* post()
      assert.strictEqual(first.response.status, 429)
      assert.strictEqual(first.response.headers.get("retry-after"), "3")
      assert.deepStrictEqual(first.json, { error: { message: "Rate limit exceeded", status: 429 } })

      const second = yield* post()
      assert.strictEqual(second.response.status, 503)
      assert.deepStrictEqual(second.json, { error: { message: "Service Unavailable", status: 503 } })

      const third = yield* post()
      assert.strictEqual(third.response.status, 200)
      assert.deepStrictEqual(third.json, { data: [{ url: "http://127.0.0.1/img.png" }] })

      assert.strictEqual(yield* server.pendingScripts, 0)
      assert.strictEqual(yield* server.count({ method: "POST", path: "/v1/images/generations" }), 3)
      assert.strictEqual(yield* server.count(imagesRoute), 3)
      assert.strictEqual(yield* server.count({ path: "/v1/images/*" }), 4)
      assert.strictEqual(yield* server.count(), 4)
    }))

  it.scopedLive("scripts by route, by predicate, for all requests; clearScripts", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({ routes: [imagesRoute] })
      yield* server.script(imagesRoute, [FakeResponse.json({ scripted: 1 }, { status: 202 })])
      yield* server.script((req) => req.headers["x-trace"] === "t1", [Fault.status(418)])
      yield* server.scriptAll([Fault.status(500), Fault.status(502)])
      const url = `${server.url}/v1/images/generations`

      const traced = yield* fetchText(url, { method: "POST", headers: { "x-trace": "t1" } })
      assert.strictEqual(traced.response.status, 202) // the route script was added first
      const traced2 = yield* fetchText(url, { method: "POST", headers: { "x-trace": "t1" } })
      assert.strictEqual(traced2.response.status, 418)
      assert.strictEqual((yield* fetchText(`${server.url}/anything`)).response.status, 500)
      assert.strictEqual(yield* server.pendingScripts, 1)
      yield* server.clearScripts
      assert.strictEqual((yield* fetchText(`${server.url}/anything`)).response.status, 404)
    }))

  it.scopedLive("handlers keep state in Refs; routes can be added later", () =>
    Effect.gen(function*() {
      const jobs = yield* Ref.make(new Map<string, number>())
      const server = yield* FakeServer.make({
        routes: [
          FakeRoute.post("/jobs", () =>
            Ref.modify(jobs, (m) => {
              const id = `job-${m.size + 1}`
              return [FakeResponse.json({ id }, { status: 201 }), new Map(m).set(id, 0)]
            })),
          FakeRoute.get("/jobs/:id", (req) =>
            Ref.modify(jobs, (m): [Fault.Reply, Map<string, number>] => {
              const polls = m.get(req.params.id)
              if (polls === undefined) return [Fault.status(404), m]
              const status = polls >= 1 ? "succeeded" : "running"
              return [FakeResponse.json({ id: req.params.id, status }), new Map(m).set(req.params.id, polls + 1)]
            }))
        ]
      })
      const { json: job } = yield* fetchJson(`${server.url}/jobs`, { method: "POST" })
      assert.deepStrictEqual(job, { id: "job-1" })
      assert.deepStrictEqual((yield* fetchJson(`${server.url}/jobs/job-1`)).json, { id: "job-1", status: "running" })
      assert.deepStrictEqual((yield* fetchJson(`${server.url}/jobs/job-1`)).json, { id: "job-1", status: "succeeded" })
      assert.strictEqual((yield* fetchText(`${server.url}/jobs/job-9`)).response.status, 404)

      yield* server.addRoutes(FakeRoute.get("/jobs/job-1", FakeResponse.json({ overridden: true })))
      assert.deepStrictEqual((yield* fetchJson(`${server.url}/jobs/job-1`)).json, { overridden: true })
      assert.strictEqual(yield* server.count({ method: "POST", path: "/jobs" }), 1)
      assert.strictEqual(yield* server.count({ method: "GET", path: "/jobs/:id" }), 4)
    }))

  it.scopedLive("awaitCount waits for requests made in the background", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({ routes: [FakeRoute.get("/poll", FakeResponse.json({ ok: true }))] })
      const waiter = yield* Effect.fork(server.awaitCount({ path: "/poll" }, 3))
      for (let i = 0; i < 3; i++) yield* fetchText(`${server.url}/poll`)
      const found = yield* Fiber.join(waiter)
      assert.strictEqual(found.length, 3)
    }))

  it.scopedLive("multipart bodies are kept raw and can be parsed on demand", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({ routes: [FakeRoute.post("/v1/images/edits", FakeResponse.empty())] })
      const form = new FormData()
      form.append("prompt", "add a hat")
      form.append("image", new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" }), "in.png")
      const { response } = yield* fetchText(`${server.url}/v1/images/edits`, { method: "POST", body: form })
      assert.strictEqual(response.status, 204)
      const [request] = yield* server.requests
      assert.match(request.headers["content-type"], /^multipart\/form-data; boundary=/)
      assert.include(request.text, "add a hat")
      const parsed = yield* FakeRequest.formData(request)
      assert.strictEqual(parsed.get("prompt"), "add a hat")
      const image = parsed.get("image")
      assert.instanceOf(image, Blob)
      assert.deepStrictEqual(Array.from(new Uint8Array(yield* Effect.promise(() => (image as Blob).arrayBuffer()))), [
        137,
        80,
        78,
        71
      ])
    }))

  it.scopedLive("streams chunks with delays (server-sent events)", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({
        routes: [
          FakeRoute.get("/events", () =>
            Effect.succeed(FakeResponse.sse([
              { event: "progress", data: { pct: 50 } },
              { event: "done", data: "line1\nline2", id: "2" }
            ], { interval: "100 millis" }))),
          FakeRoute.get("/chunks", () =>
            Effect.succeed(FakeResponse.chunks(["a", { data: "b", delay: "50 millis" }, new Uint8Array([99])])))
        ]
      })
      const start = Date.now()
      const response = yield* fetchE(`${server.url}/events`)
      assert.strictEqual(response.headers.get("content-type"), "text/event-stream")
      const headersAfter = Date.now() - start
      const text = yield* textE(response)
      const elapsed = Date.now() - start
      assert.isBelow(headersAfter, 100) // headers are flushed before the first event
      assert.isAtLeast(elapsed, 190)
      assert.strictEqual(
        text,
        "event: progress\ndata: {\"pct\":50}\n\nevent: done\nid: 2\ndata: line1\ndata: line2\n\n"
      )
      assert.strictEqual((yield* fetchText(`${server.url}/chunks`)).text, "abc")
    }))

  it.scopedLive("fails with FakeServerError when the port is taken", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make()
      const error = yield* Effect.flip(FakeServer.make({ port: server.port }))
      assert.strictEqual(error._tag, "FakeServerError")
      assert.strictEqual(error.port, server.port)
    }))

  it.scopedLive("the server is closed when its scope closes, hung requests included", () =>
    Effect.gen(function*() {
      const hung = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* FakeServer.make({ routes: [FakeRoute.get("/hang", Fault.hang)] })
        const pending = yield* Effect.fork(Effect.either(fetchE(`${server.url}/hang`)))
        yield* server.awaitCount({ path: "/hang" }, 1)
        return { url: server.url, pending }
      }))
      const result = yield* Fiber.join(hung.pending)
      assert.isTrue(Either.isLeft(result), "the hung request fails when the server closes")
      const after = yield* Effect.either(fetchE(`${hung.url}/hang`))
      assert.isTrue(Either.isLeft(after))
      if (Either.isLeft(after)) assert.strictEqual(errorCode(after.left), "ECONNREFUSED")
    }))

  it.scoped("faults use the live clock even under the TestClock", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({
        routes: [FakeRoute.get("/slow", Fault.delay(20, FakeResponse.text("ok")))]
      })
      const { text } = yield* fetchText(`${server.url}/slow`)
      assert.strictEqual(text, "ok")
    }))
})

layer(FakeServer.layer({ routes: [imagesRoute] }), { excludeTestServices: true })("FakeServer.layer", (it) => {
  it.effect("provides the service", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.FakeServer
      const { response } = yield* fetchText(`${server.url}/v1/images/generations`, { method: "POST" })
      assert.strictEqual(response.status, 200)
      assert.isAtLeast(yield* server.count(imagesRoute), 1)
    }))
})
