/**
 * Contract tests: Replicate's official JavaScript SDK (`replicate` 1.4.0) against the fake. What the SDK
 * gets from the fake is what it would get from api.replicate.com.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeReplicate from "@image-gen/replicate/testing"
import * as Effect from "effect/Effect"
import Replicate from "replicate"

const sdk = (fake: FakeReplicate.Service, auth = fake.token) =>
  new Replicate({ auth, baseUrl: fake.apiUrl, useFileOutput: false })

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

const attempt = <A>(f: () => Promise<A>) =>
  Effect.promise(() => f().then(() => undefined, (e: unknown) => e as Error & { response?: Response }))

describe("replicate SDK against the fake", () => {
  it.scopedLive("run() blocks with Prefer: wait and returns the output URLs, which serve image bytes", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make({ answerWaitOnOutput: false })
      const output = yield* promise(() =>
        sdk(fake).run("black-forest-labs/flux-schnell", {
          input: { prompt: "an iguana on the beach", num_outputs: 2, output_format: "png" }
        })
      ) as Effect.Effect<Array<string>>
      assert.strictEqual(output.length, 2)
      const [create] = yield* fake.server.requestsMatching({ path: "/v1/models/:owner/:name/predictions" })
      assert.strictEqual(create!.headers.prefer, "wait")
      assert.match(create!.headers["user-agent"]!, /^replicate-javascript\//)
      const bytes = yield* promise(() => fetch(output[0]!).then(async (r) => new Uint8Array(await r.arrayBuffer())))
      assert.deepStrictEqual(bytes, fake.imageBytes("png"))
    }))

  it.scopedLive("run() in poll mode follows the prediction to succeeded and reports progress", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make({ scenario: { startingMs: 100, processingMs: 600 } })
      const seen: Array<string> = []
      const output = yield* promise(() =>
        sdk(fake).run(
          "black-forest-labs/flux-1.1-pro",
          { input: { prompt: "a red fox" }, wait: { mode: "poll", interval: 20 } },
          (prediction) => {
            seen.push(prediction.status)
          }
        )
      )
      assert.isString(output)
      assert.match(output as unknown as string, /out-0\.webp$/)
      assert.includeMembers(seen, ["starting", "processing", "succeeded"])
      assert.isAtLeast(yield* fake.server.count({ method: "GET", path: "/v1/predictions/:id" }), 2)
    }))

  it.scopedLive("run() with wait.timeout sends Prefer: wait=N; a processing answer with output is final for the SDK", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make({ scenario: { startingMs: 10, processingMs: 3000, outputAtMs: 20 } })
      const output = yield* promise(() =>
        sdk(fake).run("black-forest-labs/flux-dev", {
          input: { prompt: "a boat" },
          wait: { mode: "block", timeout: 1 }
        })
      ) as Effect.Effect<Array<string>>
      assert.strictEqual(output.length, 1)
      const [create] = yield* fake.server.requestsMatching({ path: "/v1/models/:owner/:name/predictions" })
      assert.strictEqual(create!.headers.prefer, "wait=1")
      // The SDK's documented quirk: it does not poll a `processing` answer.
      assert.strictEqual(yield* fake.server.count({ method: "GET", path: "/v1/predictions/:id" }), 0)
    }))

  it.scopedLive("run() with a versioned model posts to /predictions with the version", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make()
      const version = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
      const output = yield* promise(() =>
        sdk(fake).run(`stability-ai/sdxl:${version}`, { input: { prompt: "a castle", width: 768, height: 768 } })
      ) as Effect.Effect<Array<string>>
      assert.match(output[0]!, /out-0\.png$/)
      const [create] = yield* fake.server.requestsMatching({ method: "POST", path: "/v1/predictions" })
      const body = (yield* create!.json) as { version: string }
      assert.strictEqual(body.version, version)
      const [stored] = yield* fake.predictions
      assert.strictEqual(stored!.model, "stability-ai/sdxl")
    }))

  it.scopedLive("predictions.create / get / cancel", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make({ scenario: { startingMs: 10, processingMs: 60_000 } })
      const client = sdk(fake)
      const created = yield* promise(() =>
        client.predictions.create({
          model: "black-forest-labs/flux-schnell",
          input: { prompt: "a kite" },
          webhook: "https://example.test/hook",
          webhook_events_filter: ["completed"]
        })
      )
      assert.strictEqual(created.status, "starting")
      assert.strictEqual(created.version, "hidden")
      assert.strictEqual(created.urls.get, `${fake.apiUrl}/predictions/${created.id}`)
      assert.strictEqual(created.webhook, "https://example.test/hook")
      yield* Effect.sleep("60 millis")
      const got = yield* promise(() => client.predictions.get(created.id))
      assert.strictEqual(got.status, "processing")
      assert.include(got.logs, "Using seed")
      const canceled = yield* promise(() => client.predictions.cancel(created.id))
      assert.strictEqual(canceled.status, "canceled")
      const after = yield* promise(() => client.predictions.get(created.id))
      assert.strictEqual(after.status, "canceled")
      assert.isString(after.completed_at)
    }))

  it.scopedLive("files.create uploads multipart, and Blob inputs are uploaded and passed as the file URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make()
      const client = sdk(fake)
      const png = fake.imageBytes("png")
      const file = yield* promise(() => client.files.create(Buffer.from(png), { purpose: "test" }))
      assert.strictEqual(file.urls.get, `${fake.apiUrl}/files/${file.id}`)
      assert.strictEqual(file.size, png.byteLength)
      assert.deepStrictEqual(file.metadata, { purpose: "test" })
      const fetched = yield* promise(() => client.files.get(file.id))
      assert.strictEqual(fetched.id, file.id)

      yield* promise(() =>
        client.run("black-forest-labs/flux-dev", {
          input: { prompt: "snow", image: new Blob([png], { type: "image/png" }) }
        })
      )
      const stored = yield* fake.files
      assert.strictEqual(stored.length, 2)
      const [prediction] = yield* fake.predictions
      assert.strictEqual(prediction!.input.image, `${fake.apiUrl}/files/${stored[1]!.id}`)
    }))

  it.scopedLive("errors: 401 and 422 as ApiError with Replicate's problem body, NSFW as a failed prediction", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make()
      const unauthorized = yield* attempt(() =>
        sdk(fake, "r8_wrong").predictions.create({ model: "black-forest-labs/flux-schnell", input: { prompt: "x" } })
      )
      assert.strictEqual(unauthorized?.name, "ApiError")
      assert.strictEqual(unauthorized?.response?.status, 401)
      assert.include(unauthorized?.message, "You did not pass a valid authentication token")

      const invalid = yield* attempt(() =>
        sdk(fake).predictions.create({ model: "black-forest-labs/flux-schnell", input: { aspect_ratio: "7:3" } })
      )
      assert.strictEqual(invalid?.response?.status, 422)
      assert.include(invalid?.message, "invalid_fields")
      assert.include(invalid?.message, "prompt is required")

      const missing = yield* attempt(() => sdk(fake).predictions.get("nope"))
      assert.strictEqual(missing?.response?.status, 404)

      const blocked = yield* attempt(() =>
        sdk(fake).run("black-forest-labs/flux-schnell", { input: { prompt: "nsfw please" } })
      )
      assert.match(blocked!.message, /^Prediction failed: .*NSFW/)
    }))
})
