// The official `openai` SDK (6.49.0, Node 20) against the fake: it must get what it gets from the real API.
import { assert, describe, it } from "@effect/vitest"
import * as FakeRequest from "@image-gen/testing/FakeRequest"
import * as Effect from "effect/Effect"
import OpenAI, { toFile } from "openai"
import * as FakeOpenAi from "../src/testing.js"
import { isPng, pngBytes } from "./utils.js"

const sdk = (url: string, apiKey = "sk-test", maxRetries = 0) => new OpenAI({ apiKey, baseURL: url, maxRetries })

const file = (name: string) => toFile(Buffer.from(pngBytes()), name, { type: "image/png" })

describe("openai SDK against FakeOpenAi", () => {
  it.scopedLive("images.generate", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: "sk-test" })
      const result = yield* Effect.promise(() =>
        sdk(fake.url).images.generate({
          model: "gpt-image-2",
          prompt: "a red fox",
          n: 2,
          size: "1024x1024",
          quality: "low",
          output_format: "png",
          background: "opaque",
          moderation: "low"
        }).withResponse()
      )
      assert.strictEqual(result.data.data?.length, 2)
      assert.isTrue(isPng(Buffer.from(result.data.data![0]!.b64_json!, "base64")))
      assert.strictEqual(result.data.quality, "low")
      assert.strictEqual(result.data.size, "1024x1024")
      assert.isAbove(result.data.usage!.output_tokens, 0)
      assert.strictEqual(result.request_id, result.response.headers.get("x-request-id"))
      const [request] = yield* fake.server.requests
      assert.strictEqual(request!.headers["authorization"], "Bearer sk-test")
    }))

  it.scopedLive("images.edit with several files and a mask (multipart)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: "sk-test" })
      const result = yield* Effect.promise(async () =>
        sdk(fake.url).images.edit({
          model: "gpt-image-1.5",
          prompt: "put the mug on a marble counter",
          image: [await file("a.png"), await file("b.png")],
          mask: await file("mask.png"),
          input_fidelity: "high",
          size: "1536x1024",
          output_format: "webp",
          output_compression: 70
        })
      )
      assert.strictEqual(result.data?.length, 1)
      assert.strictEqual(result.output_format, "webp")
      const form = yield* FakeRequest.formData((yield* fake.server.requests)[0]!)
      assert.strictEqual(form.getAll("image[]").length, 2)
      assert.instanceOf(form.get("mask"), Blob)
      assert.strictEqual(form.get("output_compression"), "70")
    }))

  it.scopedLive("streams partial images (generations and edits)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: "sk-test", sendDone: true })
      const types = yield* Effect.promise(async () => {
        const out: Array<string> = []
        const stream = await sdk(fake.url).images.generate({
          model: "gpt-image-2",
          prompt: "a red fox",
          stream: true,
          partial_images: 2
        })
        for await (const event of stream) out.push(event.type)
        const edit = await sdk(fake.url).images.edit({
          model: "gpt-image-2",
          prompt: "a red fox",
          image: await file("a.png"),
          stream: true,
          partial_images: 1
        })
        for await (const event of edit) out.push(event.type)
        return out
      })
      assert.deepStrictEqual(types, [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
        "image_edit.partial_image",
        "image_edit.completed"
      ])
    }))

  it.scopedLive("dall-e-3 (when alive) answers URLs with revised prompts", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ retired: [] })
      const result = yield* Effect.promise(() =>
        sdk(fake.url).images.generate({ model: "dall-e-3", prompt: "a red fox", style: "vivid" })
      )
      const url = result.data![0]!.url!
      assert.isDefined(result.data![0]!.revised_prompt)
      const downloaded = yield* Effect.promise(() => fetch(url).then((r) => r.arrayBuffer()))
      assert.isTrue(isPng(new Uint8Array(downloaded)))
    }))

  it.scopedLive("errors: auth, safety, retired model, validation, rate limit retried by the SDK", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: "sk-test" })
      const failure = (f: () => Promise<unknown>) => Effect.promise(() => f().then(() => undefined, (e: unknown) => e))
      const auth = yield* failure(() =>
        sdk(fake.url, "sk-wrong").images.generate({ model: "gpt-image-2", prompt: "x" })
      )
      assert.instanceOf(auth, OpenAI.AuthenticationError)
      assert.strictEqual((auth as InstanceType<typeof OpenAI.AuthenticationError>).code, "invalid_api_key")

      const blocked = yield* failure(() => sdk(fake.url).images.generate({ model: "gpt-image-2", prompt: "forbidden" }))
      assert.instanceOf(blocked, OpenAI.BadRequestError)
      assert.strictEqual((blocked as InstanceType<typeof OpenAI.BadRequestError>).code, "moderation_blocked")

      const retired = yield* failure(() => sdk(fake.url).images.generate({ model: "dall-e-2", prompt: "x" }))
      assert.instanceOf(retired, OpenAI.NotFoundError)

      const invalid = yield* failure(() =>
        sdk(fake.url).images.generate({ model: "gpt-image-1.5", prompt: "x", size: "1792x1024" as "1024x1024" })
      )
      assert.instanceOf(invalid, OpenAI.BadRequestError)
      assert.strictEqual((invalid as InstanceType<typeof OpenAI.BadRequestError>).param, "size")

      yield* fake.server.clearRequests
      yield* fake.server.script(FakeOpenAi.routesFilter, [
        FakeOpenAi.error(429, "Rate limit reached", {
          type: "requests",
          code: "rate_limit_exceeded",
          headers: { "retry-after-ms": "20" }
        })
      ])
      const ok = yield* Effect.promise(() =>
        sdk(fake.url, "sk-test", 1).images.generate({ model: "gpt-image-2", prompt: "x" })
      )
      assert.strictEqual(ok.data?.length, 1)
      assert.strictEqual(yield* fake.server.count(), 2)
    }))
})
