import { assert, describe, it } from "@effect/vitest"
import * as ImageGen from "@image-gen/core/ImageGen"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { FalClient, FalProvider } from "@image-gen/fal"
import * as FakeFal from "@image-gen/fal/testing"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Live, retry } from "./utils.js"

const build = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const live = yield* Layer.build(Live)
    const layer = FalProvider.layerConfig().pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
    )
    const context = yield* Layer.build(layer).pipe(Effect.provide(live))
    const provider = Context.get(context, ImageProvider.ImageProvider)
    return yield* ImageGen.make([provider], { retry }).pipe(Effect.provide(live))
  })

describe("FalProvider.layerConfig", () => {
  it.scopedLive("reads FAL_KEY_ID + FAL_KEY_SECRET, FAL_QUEUE_URL, FAL_REST_URL and FAL_POLL_INTERVAL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeFal.make({ apiKey: "id:secret", statusStream: false })
      const gen = yield* build({
        FAL_KEY_ID: "id",
        FAL_KEY_SECRET: "secret",
        FAL_QUEUE_URL: fake.queueUrl,
        FAL_REST_URL: fake.restUrl,
        FAL_POLL_INTERVAL: "5 millis",
        FAL_DEADLINE: "30 seconds"
      })
      const result = yield* gen.generate({
        prompt: "a kite",
        model: "fal:flux",
        images: [new ImageRequest.ImageBytes({ data: new Uint8Array([1]), mediaType: "image/png" })]
      })
      assert.strictEqual(result.images.length, 1)
      const requests = yield* fake.server.requests
      assert.isTrue(requests.some((r) => r.path === "/rest/storage/upload/initiate"))
      for (const r of requests.filter((r) => !r.path.startsWith("/cdn/"))) {
        assert.strictEqual(r.headers.authorization, "Key id:secret")
      }
    }))

  it.scopedLive("FAL_KEY wins over FAL_KEY_ID/SECRET; the defaults are fal's hosts", () =>
    Effect.gen(function*() {
      const fake = yield* FakeFal.make({ apiKey: "k" })
      const gen = yield* build({ FAL_KEY: "k", FAL_KEY_ID: "x", FAL_KEY_SECRET: "y", FAL_QUEUE_URL: fake.queueUrl })
      yield* gen.generate({ prompt: "a kite", model: "fal:flux" })
      const config = yield* FalClient.config().pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
      )
      assert.strictEqual(config.queueUrl, "https://queue.fal.run") // the documented default, not called
      assert.strictEqual(config.restUrl, "https://rest.fal.ai")
      assert.isUndefined(config.apiKey)
    }))

  it.scopedLive("a malformed FAL_DEADLINE is a ConfigError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(build({ FAL_DEADLINE: "soon" }))
      assert.include(String(error), "FAL_DEADLINE")
    }))

  it("parses endpoint ids like fal's SDK", () => {
    const parse = (id: string) => Effect.runSync(Effect.either(FalClient.parseEndpointId(id)))
    const app = (id: string) => {
      const r = parse(id)
      return r._tag === "Right" ? r.right.app : "invalid"
    }
    assert.strictEqual(app("fal-ai/flux/dev"), "fal-ai/flux")
    assert.strictEqual(app("fal-ai/bytedance/seedream/v4.5/edit"), "fal-ai/bytedance")
    assert.strictEqual(app("workflows/me/my-flow/run"), "workflows/me/my-flow")
    assert.strictEqual(app("12345-my-app"), "12345/my-app")
    assert.strictEqual(app("flux"), "invalid")
  })
})
