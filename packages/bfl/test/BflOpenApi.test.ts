// Contract test. BFL publishes no JS SDK, so the fake and the client are checked against BFL's published
// OpenAPI schemas (api.bfl.ai/openapi.json, 2026-04, as summarised in shared/reference/providers-async.md
// §3.3-3.7), encoded here with effect/Schema: every request body the client sends must decode with the
// model's input schema (no undocumented fields), and every answer of the fake must decode with the
// documented response schemas.
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { BflClient, BflProvider } from "@image-gen/bfl"
import * as FakeBfl from "@image-gen/bfl/testing"
import * as ImageGen from "@image-gen/core/ImageGen"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"

// ---- BFL OpenAPI components ------------------------------------------------------------------------------

const Url = Schema.String.pipe(Schema.maxLength(2083), Schema.pattern(/^https?:\/\//))
const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optional(Schema.NullOr(s))
const Int = Schema.Int
const webhook = { webhook_url: opt(Url), webhook_secret: opt(Schema.String) }

const Flux2Inputs = Schema.Struct({
  prompt: Schema.String,
  input_image: opt(Schema.String),
  input_image_2: opt(Schema.String),
  input_image_3: opt(Schema.String),
  input_image_4: opt(Schema.String),
  input_image_5: opt(Schema.String),
  input_image_6: opt(Schema.String),
  input_image_7: opt(Schema.String),
  input_image_8: opt(Schema.String),
  seed: opt(Int),
  width: opt(Int.pipe(Schema.greaterThanOrEqualTo(64))),
  height: opt(Int.pipe(Schema.greaterThanOrEqualTo(64))),
  safety_tolerance: Schema.optional(Int.pipe(Schema.between(0, 5))),
  output_format: opt(Schema.Literal("jpeg", "png", "webp")),
  ...webhook
})

const Flux2FlexInputs = Schema.Struct({
  ...Flux2Inputs.fields,
  steps: Schema.optional(Int),
  guidance: Schema.optional(Schema.Number),
  prompt_upsampling: Schema.optional(Schema.Boolean)
})

const FluxKontextProInputs = Schema.Struct({
  prompt: Schema.String,
  input_image: opt(Schema.String),
  input_image_2: opt(Schema.String),
  input_image_3: opt(Schema.String),
  input_image_4: opt(Schema.String),
  aspect_ratio: opt(Schema.String),
  seed: opt(Int),
  output_format: opt(Schema.Literal("jpeg", "png")),
  safety_tolerance: Schema.optional(Int.pipe(Schema.between(0, 6))),
  prompt_upsampling: Schema.optional(Schema.Boolean),
  ...webhook
})

const FluxUltraInput = Schema.Struct({
  prompt: Schema.String,
  aspect_ratio: Schema.optional(Schema.String),
  raw: Schema.optional(Schema.Boolean),
  image_prompt: opt(Schema.String),
  image_prompt_strength: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  seed: opt(Int),
  safety_tolerance: Schema.optional(Int.pipe(Schema.between(0, 6))),
  output_format: opt(Schema.Literal("jpeg", "png")),
  prompt_upsampling: Schema.optional(Schema.Boolean),
  ...webhook
})

const Dim32 = Int.pipe(Schema.between(256, 1440), Schema.multipleOf(32))
const FluxPro11Inputs = Schema.Struct({
  prompt: Schema.String,
  image_prompt: opt(Schema.String),
  width: Schema.optional(Dim32),
  height: Schema.optional(Dim32),
  prompt_upsampling: Schema.optional(Schema.Boolean),
  seed: opt(Int),
  safety_tolerance: Schema.optional(Int.pipe(Schema.between(0, 6))),
  output_format: opt(Schema.Literal("jpeg", "png")),
  ...webhook
})

const AsyncResponse = Schema.Struct({
  id: Schema.String,
  polling_url: Schema.String,
  cost: opt(Schema.Number),
  input_mp: opt(Schema.Number),
  output_mp: opt(Schema.Number)
})

const AsyncWebhookResponse = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  webhook_url: Schema.String,
  cost: opt(Schema.Number),
  input_mp: opt(Schema.Number),
  output_mp: opt(Schema.Number)
})

const StatusResponse = Schema.Literal(
  "Task not found",
  "Pending",
  "Request Moderated",
  "Content Moderated",
  "Ready",
  "Error"
)

const ResultResponse = Schema.Struct({
  id: Schema.String,
  status: StatusResponse,
  result: Schema.optional(Schema.Unknown),
  progress: opt(Schema.Number),
  details: opt(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  preview: opt(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})

const HTTPValidationError = Schema.Struct({
  detail: Schema.Array(Schema.Struct({
    loc: Schema.Array(Schema.Union(Schema.String, Int)),
    msg: Schema.String,
    type: Schema.String
  }))
})

const inputSchemaOf = (model: string): Schema.Schema.AnyNoContext => {
  if (model === "flux-2-flex") return Flux2FlexInputs
  if (model.startsWith("flux-2-")) return Flux2Inputs
  if (model.startsWith("flux-kontext-")) return FluxKontextProInputs
  if (model === "flux-pro-1.1-ultra") return FluxUltraInput
  if (model === "flux-pro-1.1" || model === "flux-dev") return FluxPro11Inputs
  throw new Error(`no schema for ${model}`)
}

/** Decodes strictly: undocumented fields are errors. */
const conforms = (schema: Schema.Schema.AnyNoContext, value: unknown): string | undefined =>
  Either.match(Schema.decodeUnknownEither(schema)(value, { onExcessProperty: "error", errors: "all" }), {
    onLeft: (e) => e.message,
    onRight: () => undefined
  })

// ---- tests ---------------------------------------------------------------------------------------------

const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)
const retry = { attempts: 2, maxWait: "1 second", baseDelay: "10 millis" } as const
const png = new ImageRequest.ImageBytes({ data: new Uint8Array([137, 80, 78, 71]), mediaType: "image/png" })
const url = new ImageRequest.ImageUrl({ url: "https://example.test/ref.jpg" })

describe("BFL OpenAPI contract", () => {
  it("the encoded schemas reject what BFL rejects", () => {
    assert.isDefined(conforms(Flux2Inputs, { prompt: 1 }))
    assert.isDefined(conforms(Flux2Inputs, { prompt: "x", width: 32 }))
    assert.isDefined(conforms(Flux2Inputs, { prompt: "x", negative_prompt: "y" }))
    assert.isDefined(conforms(FluxPro11Inputs, { prompt: "x", width: 1000 }))
    assert.isDefined(conforms(ResultResponse, { id: "a", status: "Done" }))
    assert.isUndefined(conforms(Flux2Inputs, { prompt: "x", width: 1024, height: 768, output_format: "webp" }))
  })

  it.scopedLive("every request body the client sends conforms to the model's input schema", () =>
    Effect.gen(function*() {
      const fake = yield* FakeBfl.make()
      const client = yield* BflClient.make({ apiKey: Redacted.make(fake.apiKey), apiUrl: fake.url })
      const provider = yield* BflProvider.make({ pollSchedule: Schedule.spaced("10 millis"), stepRetry: retry }).pipe(
        Effect.provideService(BflClient.BflClient, client)
      )
      const gen = yield* ImageGen.make([provider], { retry })
      const requests: ReadonlyArray<ImageRequest.ImageRequestInput | ImageRequest.ImageRequest> = [
        { prompt: "a", model: "bfl:flux-2-pro", size: "1024x768", seed: 1, outputFormat: "webp" },
        new ImageRequest.ImageRequest({ prompt: "b", model: "bfl:flux-2-pro", images: [png, url, url] }),
        { prompt: "c", model: "bfl:flux-2-max", aspectRatio: "3:2", resolution: "1K" },
        {
          prompt: "d",
          model: "bfl:flux-2-flex",
          providerOptions: { steps: 30, guidance: 4.5, prompt_upsampling: false }
        },
        { prompt: "e", model: "bfl:flux-2-klein-4b", webhookUrl: "https://hooks.example.test/x" },
        new ImageRequest.ImageRequest({
          prompt: "f",
          model: "kontext-pro",
          images: [url],
          aspectRatio: "16:9",
          seed: 3
        }),
        new ImageRequest.ImageRequest({ prompt: "g", model: "kontext-max", images: [png], outputFormat: "jpeg" }),
        new ImageRequest.ImageRequest({
          prompt: "h",
          model: "flux-ultra",
          aspectRatio: "21:9",
          images: [png],
          providerOptions: { raw: true, image_prompt_strength: 0.3 }
        }),
        { prompt: "i", model: "flux-1.1-pro", size: "1440x768", providerOptions: { safety_tolerance: 6 } },
        { prompt: "j", model: "bfl:flux-dev", aspectRatio: "4:3" },
        {
          prompt: "k",
          model: "bfl:flux-2-pro",
          providerOptions: { webhook_url: "https://hooks.example.test/y", webhook_secret: "s" }
        }
      ]
      for (const request of requests) yield* gen.generate(request)
      const logged = yield* fake.server.requestsMatching({ method: "POST", path: "/v1/:model" })
      assert.strictEqual(logged.length, requests.length)
      for (const request of logged) {
        const model = request.path.slice("/v1/".length)
        const problem = conforms(inputSchemaOf(model), yield* request.json)
        assert.isUndefined(problem, `${model}: ${problem}`)
      }
    }).pipe(Effect.provide(Live)))

  it.scopedLive("every answer of the fake conforms to the documented response schemas", () =>
    Effect.gen(function*() {
      const fake = yield* FakeBfl.make()
      const http = (yield* HttpClient.HttpClient).pipe(
        HttpClient.mapRequest(HttpClientRequest.setHeader("x-key", fake.apiKey))
      )
      const json = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.scoped(
          Effect.flatMap(http.execute(request), (r) => Effect.map(r.json, (body) => ({ status: r.status, body })))
        )
      const submit = (model: string, body: unknown) =>
        json(HttpClientRequest.post(`${fake.url}/v1/${model}`).pipe(HttpClientRequest.bodyUnsafeJson(body)))

      yield* fake.enqueue(
        [{ status: "Pending", progress: null }, { status: "Pending", progress: 0.4 }, { status: "Ready" }],
        [{ status: "Request Moderated", details: { "Moderation Reasons": ["Prompt"] } }],
        [{ status: "Pending" }, {
          status: "Content Moderated",
          details: { "Moderation Reasons": ["Derivative Works"] }
        }],
        [{ status: "Error" }]
      )
      for (let i = 0; i < 4; i++) {
        const submitted = yield* submit("flux-2-pro", { prompt: `p${i}` })
        assert.strictEqual(submitted.status, 200)
        assert.isUndefined(conforms(AsyncResponse, submitted.body))
        const pollingUrl = (submitted.body as { polling_url: string }).polling_url
        assert.match(pollingUrl, /\/cluster-eu\/v1\/get_result\?id=/)
        for (let poll = 0; poll < 3; poll++) {
          const answer = yield* json(HttpClientRequest.get(pollingUrl))
          assert.strictEqual(answer.status, 200)
          const problem = conforms(ResultResponse, answer.body)
          assert.isUndefined(problem, problem)
        }
      }
      // Wrong cluster: the task is unknown there.
      const [first] = yield* fake.tasks
      const elsewhere = yield* json(HttpClientRequest.get(`${fake.url}/v1/get_result?id=${first!.id}`))
      assert.isUndefined(conforms(ResultResponse, elsewhere.body))
      assert.strictEqual((elsewhere.body as { status: string }).status, "Task not found")

      const hooked = yield* submit("flux-kontext-pro", { prompt: "w", webhook_url: "https://hooks.example.test/z" })
      assert.isUndefined(conforms(AsyncWebhookResponse, hooked.body))

      const invalid = yield* submit("flux-2-pro", { prompt: "x", width: 10 })
      assert.strictEqual(invalid.status, 422)
      assert.isUndefined(conforms(HTTPValidationError, invalid.body))
      const missing = yield* submit("flux-kontext-pro", {})
      assert.strictEqual(missing.status, 422)
      assert.isUndefined(conforms(HTTPValidationError, missing.body))
    }).pipe(Effect.provide(Live)))
})
