import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as ImageGen from "../src/ImageGen.js"
import * as ImageProvider from "../src/ImageProvider.js"
import { GeneratedImage } from "../src/ImageResult.js"
import * as ProviderHttp from "../src/ProviderHttp.js"
import { catalogFor } from "./utilities.js"

const SENTINEL = "sk-SENTINEL-7f3a9c1d2e"

/** A loopback server: 401 for /auth, 429 then 200 for /flaky, 200 with base64 image for /ok. */
const server = Effect.acquireRelease(
  Effect.async<http.Server>((resume) => {
    let flaky = 0
    const s = http.createServer((req, res) => {
      req.resume()
      if (req.url === "/auth") {
        res.writeHead(401, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { message: "Incorrect API key provided" } }))
      } else if (req.url === "/flaky" && flaky++ === 0) {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "0" })
        res.end(JSON.stringify({ error: { message: "slow down" } }))
      } else {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ data: [{ b64_json: Buffer.from("png").toString("base64") }] }))
      }
    })
    s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
  }),
  (s) =>
    Effect.async<void>((resume) => {
      s.close(() => resume(Effect.void))
    })
)

const Answer = Schema.Struct({ data: Schema.Array(Schema.Struct({ b64_json: Schema.String })) })

/** A provider that authenticates with the sentinel key in a bearer header and a custom header. */
const httpProvider = (baseUrl: string) =>
  Effect.gen(function*() {
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((r) =>
        r.pipe(
          HttpClientRequest.prependUrl(baseUrl),
          HttpClientRequest.bearerToken(Redacted.make(SENTINEL)),
          HttpClientRequest.setHeader("x-api-key", SENTINEL)
        )
      ),
      HttpClient.filterStatusOk
    )
    return ImageProvider.make({
      id: "sec",
      catalog: catalogFor("sec", [{ id: "m1" }]),
      serverAddress: "127.0.0.1",
      generate: (call) =>
        client.post(call.request.prompt, { body: undefined }).pipe(
          Effect.flatMap(HttpClientResponse.schemaBodyJson(Answer)),
          Effect.scoped,
          Effect.map((a) => ({
            images: a.data.map((d) =>
              new GeneratedImage({ bytes: Buffer.from(d.b64_json, "base64"), mediaType: "image/png" })
            )
          })),
          ProviderHttp.mapErrors({ provider: "sec", model: call.model, keyName: "SEC_API_KEY" })
        )
    })
  })

describe("Telemetry", () => {
  it.scopedLive("spans carry GenAI attributes; retries are span events; no secret in spans, logs or errors", () =>
    Effect.gen(function*() {
      const s = yield* server
      const baseUrl = `http://127.0.0.1:${(s.address() as AddressInfo).port}`
      const exporter = new InMemorySpanExporter()
      const logs: Array<string> = []
      const captureLogger = Logger.make((options) => {
        logs.push(JSON.stringify({ message: options.message, annotations: Object.fromEntries(options.annotations) }))
      })
      const run = Effect.gen(function*() {
        const provider = yield* httpProvider(baseUrl)
        const gen = yield* ImageGen.make([provider], {
          retry: { attempts: 3, maxWait: Duration.seconds(1), baseDelay: Duration.millis(1) }
        })
        const ok = yield* gen.generate({ prompt: "/flaky", model: "sec:m1", seed: 7, correlationId: "corr-1" })
        const failed = yield* Effect.flip(gen.generate({ prompt: "/auth", model: "sec:m1" }))
        // Read before the SDK layer closes: shutdown clears the in-memory exporter.
        return { ok, failed, spans: exporter.getFinishedSpans() }
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            NodeSdk.layer(() => ({
              resource: { serviceName: "test" },
              spanProcessor: new SimpleSpanProcessor(exporter)
            })),
            Logger.replace(Logger.defaultLogger, captureLogger)
          )
        ),
        Effect.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))
      )
      const { failed, ok, spans } = yield* run
      assert.strictEqual(ok.attempts, 2)
      assert.strictEqual(failed._tag, "AuthenticationError")
      assert.include(failed.message, "SEC_API_KEY")

      const attempts = spans.filter((sp) => sp.name === "generate_image m1")
      assert.isAtLeast(attempts.length, 3)
      const first = attempts[0]!
      assert.strictEqual(first.kind, 2) // CLIENT
      assert.strictEqual(first.attributes["gen_ai.operation.name"], "generate_image")
      assert.strictEqual(first.attributes["gen_ai.provider.name"], "sec")
      assert.strictEqual(first.attributes["gen_ai.request.model"], "m1")
      assert.strictEqual(first.attributes["gen_ai.output.type"], "image")
      assert.strictEqual(first.attributes["gen_ai.request.seed"], 7)
      assert.strictEqual(first.attributes["error.type"], "RateLimited")
      const root = spans.find((sp) =>
        sp.name === "image_gen.generate" && sp.attributes["image_gen.status"] === "completed"
      )!
      assert.isDefined(root)
      assert.strictEqual(root.attributes["image_gen.correlation_id"], "corr-1")
      const retryEvents = root.events.filter((e) => e.name === "image_gen.retry")
      assert.strictEqual(retryEvents.length, 1)
      assert.strictEqual(retryEvents[0]!.attributes?.["error.type"], "RateLimited")
      assert.isTrue(spans.some((sp) => sp.name.startsWith("http.client")))

      const record = logs.find((l) => l.includes("corr-1"))!
      assert.isDefined(record)
      assert.include(record, `"retry_count":1`)
      assert.include(record, `"status":"completed"`)
      for (
        const field of [
          "request_id",
          "provider",
          "model",
          "latency_ms",
          "status",
          "bytes_out",
          "cost_usd",
          "retry_count",
          "fallback_used",
          "correlation_id"
        ]
      ) {
        assert.include(record, `"${field}"`)
      }

      const everything = [
        ...spans.flatMap((sp) => [sp.name, JSON.stringify(sp.attributes), JSON.stringify(sp.events)]),
        ...logs,
        failed.message,
        JSON.stringify(failed),
        String(failed)
      ].join("\n")
      assert.notInclude(everything, SENTINEL)
    }))
})
