/**
 * `image-gen generate` end to end against the OpenAI Images API fake: the real provider wiring
 * (`OpenAiProvider.layerConfig`, `OpenAiCompatibleProvider.layerConfig`) configured only by environment
 * variables pointing at the fake on 127.0.0.1.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeOpenAi from "@image-gen/openai/testing"
import { FakeRequest } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { listDir, pngSize, readFile, runConfigured, tempDir, writeFile } from "./utils/harness.js"

const key = "sk-e2e-openai"

const env = (fake: FakeOpenAi.Service, apiKey: string = key): Record<string, string> => ({
  OPENAI_API_KEY: apiKey,
  OPENAI_BASE_URL: fake.url,
  IMAGE_GEN_RETRY_MAX_WAIT: "2"
})

const bodyOf = (request: FakeRequest.FakeRequest) =>
  Effect.map(Effect.orDie(request.json), (json) => json as Record<string, unknown>)

describe("image-gen generate with OpenAI (e2e)", () => {
  it.scopedLive("generate: -n 2 --size, one call with n=2, files saved, JSON summary", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a lighthouse at dawn",
          "-m",
          "openai:gpt-image-2",
          "--size",
          "1536x1024",
          "-n",
          "2",
          "-o",
          "out.png",
          "--json"
        ],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(run.stderr, [])
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      for (const name of ["out-1.png", "out-2.png"]) {
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), { width: 1536, height: 1024 })
      }
      assert.strictEqual(run.stdout.length, 1)
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "openai")
      assert.strictEqual(json.model, "gpt-image-2")
      // No token prices configured: the catalog price of the reported quality (medium, $0.053 at 1024x1024),
      // scaled by the area (1.5) for two images.
      assert.closeTo(json.costUsd, 0.053 * 1.5 * 2, 1e-6)
      assert.strictEqual(json.images.length, 2)

      assert.strictEqual(yield* fake.server.count(fake.routes.generations), 1, "n=2 fits in one call")
      const [request] = yield* fake.server.requests
      assert.strictEqual(request!.headers["authorization"], `Bearer ${key}`)
      const body = yield* bodyOf(request!)
      assert.strictEqual(body.model, "gpt-image-2")
      assert.strictEqual(body.n, 2)
      assert.strictEqual(body.size, "1536x1024")
      assert.strictEqual(body.prompt, "a lighthouse at dawn")
      assert.notProperty(body, "seed")
    }))

  it.scopedLive("--aspect-ratio becomes one of the fixed sizes for gpt-image-1.5", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a fox", "-m", "openai:gpt-image-1.5", "--aspect-ratio", "2:3", "-o", "fox.png", "--json"],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, "fox.png"))), { width: 1024, height: 1536 })
      assert.strictEqual(JSON.parse(run.stdout[0]!).model, "gpt-image-1.5")
      const [request] = yield* fake.server.requests
      const body = yield* bodyOf(request!)
      assert.strictEqual(body.size, "1024x1536")
      assert.strictEqual(body.model, "gpt-image-1.5")
    }))

  it.scopedLive("edit: --image and --mask go as multipart files to /images/edits", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: key })
      const cwd = yield* tempDir
      const input = FakeOpenAi.png(64, 64)
      const mask = FakeOpenAi.png(64, 64, [0, 0, 0])
      yield* writeFile(join(cwd, "in.png"), input)
      yield* writeFile(join(cwd, "mask.png"), mask)
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "add a red door",
          "-m",
          "openai:gpt-image-2",
          "--image",
          "in.png",
          "--mask",
          "mask.png",
          "-o",
          "edited.png",
          "--json"
        ],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["edited.png", "in.png", "mask.png"])
      assert.isDefined(pngSize(yield* readFile(join(cwd, "edited.png"))))
      assert.strictEqual(JSON.parse(run.stdout[0]!).provider, "openai")
      assert.strictEqual(yield* fake.server.count(fake.routes.generations), 0)
      assert.strictEqual(yield* fake.server.count(fake.routes.edits), 1)
      const [request] = yield* fake.server.requests
      assert.match(request!.headers["content-type"]!, /^multipart\/form-data/)
      const form = yield* Effect.orDie(FakeRequest.formData(request!))
      assert.strictEqual(form.get("model"), "gpt-image-2")
      assert.strictEqual(form.get("prompt"), "add a red door")
      const image = form.get("image") ?? form.get("image[]")
      const maskFile = form.get("mask")
      assert.instanceOf(image, File)
      assert.instanceOf(maskFile, File)
      assert.deepStrictEqual(new Uint8Array(yield* Effect.promise(() => (image as File).arrayBuffer())), input)
      assert.deepStrictEqual(new Uint8Array(yield* Effect.promise(() => (maskFile as File).arrayBuffer())), mask)
    }))

  it.scopedLive("a moderation block exits 3 with one line, not retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "something forbidden", "-m", "openai:gpt-image-2", "-o", "x.png"],
        { cwd, env: env(fake) }
      )
      assertOneErrorLine(run, { code: 3, emptyStdout: true, match: /^image-gen: openai:gpt-image-2: content blocked/ })
      assert.strictEqual(yield* fake.server.count(), 1)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a 429 with retry-after: 1 is waited out and retried once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: key })
      yield* fake.server.script(fake.routes.generations, [FakeOpenAi.rateLimited(1)])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "openai:gpt-image-2", "-o", "boat.png", "--json"],
        { cwd, env: env(fake) }
      )
      assertRetriedAfterWait(run, yield* fake.server.count(fake.routes.generations))
      assert.deepStrictEqual(yield* listDir(cwd), ["boat.png"])
    }))

  it.scopedLive("a wrong key exits 1 with one line naming OPENAI_API_KEY, not the key", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "openai:gpt-image-2", "-o", "x.png"],
        { cwd, env: env(fake, "sk-wrong-key-1234") }
      )
      assertOneErrorLine(run, {
        code: 1,
        emptyStdout: true,
        match: /^image-gen: /,
        includes: ["OPENAI_API_KEY"],
        excludes: ["sk-wrong-key-1234"]
      })
      assert.strictEqual(yield* fake.server.count(), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("what the model cannot do exits 2 before any request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: key })
      const cwd = yield* tempDir
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "openai:gpt-image-2", "--seed", "7"], "seed 7"],
        [["-m", "openai:gpt-image-2", "--negative-prompt", "fog"], "negative prompt"],
        [["-m", "openai:gpt-image-1.5", "--aspect-ratio", "16:9"], "16:9"],
        [["-m", "openai:gpt-image-2", "--size", "1000x1000"], "1000x1000"],
        [["-m", "openai:gpt-image-2", "-n", "11"], "n 11"]
      ]
      yield* assertRefusedBeforeAnyRequest({
        cases,
        prompt: "x",
        cwd,
        env: env(fake),
        requestCount: fake.server.count(),
        emptyStdout: true,
        files: []
      })
    }))
})

describe("image-gen generate with an OpenAI-compatible server (e2e)", () => {
  it.scopedLive("OPENAI_COMPATIBLE_BASE_URL/_MODELS: a shorthand resolves to the server's id, no key sent", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ models: ["flux-dev", "sdxl"], requireKey: false })
      const cwd = yield* tempDir
      const compatible = {
        OPENAI_COMPATIBLE_BASE_URL: fake.url,
        OPENAI_COMPATIBLE_MODELS: "flux=flux-dev, sdxl",
        IMAGE_GEN_RETRY_MAX_WAIT: "2"
      }
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a lighthouse",
          "-m",
          "openai-compatible:flux",
          "--size",
          "1024x1024",
          "-n",
          "2",
          "-o",
          "out.png",
          "--json"
        ],
        { cwd, env: compatible }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, "out-1.png"))), { width: 1024, height: 1024 })
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "openai-compatible")
      assert.strictEqual(json.model, "flux-dev")
      assert.strictEqual(json.images.length, 2)
      const [request] = yield* fake.server.requests
      assert.strictEqual(request!.path, "/v1/images/generations")
      assert.notProperty(request!.headers, "authorization")
      const body = yield* bodyOf(request!)
      assert.strictEqual(body.model, "flux-dev")
      assert.strictEqual(body.size, "1024x1024")

      // The first listed model is the default; with a key, it is sent as a bearer token.
      const keyed = yield* runConfigured(["generate", "-p", "a fox", "-m", "openai-compatible", "-o", "fox.png"], {
        cwd,
        env: { ...compatible, OPENAI_COMPATIBLE_API_KEY: "local-key" }
      })
      assert.strictEqual(keyed.code, 0, keyed.stderr.join("\n"))
      assert.isDefined(pngSize(yield* readFile(join(cwd, "fox.png"))))
      const second = (yield* fake.server.requests)[1]!
      assert.strictEqual(second.headers["authorization"], "Bearer local-key")
      assert.strictEqual((yield* bodyOf(second)).model, "flux-dev")
    }))
})
