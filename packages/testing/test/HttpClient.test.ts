import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { FakeResponse, FakeRoute, FakeServer, Fault } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"

// What a provider package's test looks like: a real @effect/platform HttpClient against the fake.
describe("with @effect/platform HttpClient", () => {
  it.scopedLive("retryTransient goes through a scripted 429 and 503, exactly 3 submissions", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make({
        routes: [
          FakeRoute.post(
            "/v1/images/generations",
            (req) => Effect.map(req.json, (body) => FakeResponse.json({ created: 1, echo: body }))
          )
        ]
      })
      yield* server.script({ method: "POST", path: "/v1/images/generations" }, [
        Fault.rateLimited({ retryAfterSeconds: 1 }),
        Fault.status(503)
      ])
      const client = (yield* HttpClient.HttpClient).pipe(
        HttpClient.mapRequest(HttpClientRequest.prependUrl(server.url)),
        HttpClient.filterStatusOk,
        HttpClient.retryTransient({ schedule: Schedule.spaced("10 millis"), times: 3 })
      )
      const result = yield* HttpClientRequest.post("/v1/images/generations").pipe(
        HttpClientRequest.bodyUnsafeJson({ prompt: "a fox" }),
        client.execute,
        Effect.flatMap(
          HttpClientResponse.schemaBodyJson(Schema.Struct({ echo: Schema.Struct({ prompt: Schema.String }) }))
        )
      )
      assert.deepStrictEqual(result, { echo: { prompt: "a fox" } })
      assert.strictEqual(yield* server.count({ method: "POST", path: "/v1/images/generations" }), 3)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a timeout on a hung request is a transport failure the client can see", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make()
      yield* server.scriptAll([Fault.hang])
      const client = yield* HttpClient.HttpClient
      const error = yield* client.get(`${server.url}/status`).pipe(Effect.timeout("200 millis"), Effect.flip)
      assert.strictEqual(error._tag, "TimeoutException")
      assert.strictEqual(yield* server.count({ path: "/status" }), 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
