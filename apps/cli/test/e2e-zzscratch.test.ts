import { it } from "@effect/vitest"
import * as FakeStability from "@image-gen/stability/testing"
import * as FakeRecraft from "@image-gen/recraft/testing"
import * as FakeIdeogram from "@image-gen/ideogram/testing"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { runConfigured, tempDir, writeFile } from "./utils/harness.js"

it.scopedLive("scratch", () =>
  Effect.gen(function*() {
    const s = yield* FakeStability.make()
    const r = yield* FakeRecraft.make()
    const i = yield* FakeIdeogram.make()
    const cwd = yield* tempDir
    yield* writeFile(join(cwd, "in.png"), FakeStability.png(16, 16))
    const env = { STABILITY_API_KEY: s.apiKey, STABILITY_BASE_URL: s.url, RECRAFT_API_TOKEN: r.apiKey, RECRAFT_BASE_URL: r.url, IDEOGRAM_API_KEY: i.apiKey, IDEOGRAM_BASE_URL: i.url, IMAGE_GEN_RETRY_MAX_WAIT: "2" }
    const cases = [
      ["-m", "stability:stable-image-core", "--aspect-ratio", "4:3"],
      ["-m", "stability:stable-image-core", "--size", "1000x1000"],
      ["-m", "stability:sd3.5-large", "--format", "webp"],
      ["-m", "stability:stable-image-core", "--image", "in.png"],
      ["-m", "stability:stable-image-inpaint"],
      ["-m", "stability:stable-image-ultra", "--resolution", "4K"],
      ["-m", "stability:stable-image-core", "-p", "forbidden"],
      ["-m", "stability:stable-image-core", "-p", "blurry-nsfw"],
      ["-m", "recraft:recraftv4_1", "--size", "1000x1000"],
      ["-m", "recraft:recraftv4_1", "--format", "jpeg"],
      ["-m", "recraft:recraftv4_1", "--negative-prompt", "fog"],
      ["-m", "recraft:recraftv4_1_vector", "--format", "png"],
      ["-m", "recraft:recraftv4_1", "--image", "in.png", "--size", "1024x1024"],
      ["-m", "recraft:recraftv4_1", "--aspect-ratio", "21:9"],
      ["-m", "recraft:recraftv4_1", "-n", "17"],
      ["-m", "recraft:recraftv4_1", "-p", "forbidden"],
      ["-m", "ideogram:ideogram-v3", "--aspect-ratio", "21:9"],
      ["-m", "ideogram:ideogram-v3", "--format", "jpeg"],
      ["-m", "ideogram:ideogram-v3", "--resolution", "2K"],
      ["-m", "ideogram:ideogram-v3", "--size", "1000x1000"],
      ["-m", "ideogram:ideogram-v3", "-p", "forbidden"],
      ["-m", "ideogram:ideogram-v3", "-p", "unsafe-output"],
      ["-m", "ideogram:ideogram-v3", "--mask", "in.png"],
    ]
    for (const args of cases) {
      const run = yield* runConfigured(["generate", "-p", "x", ...args, "-o", "x.png"], { cwd, env })
      console.log(args.join(" "), "=>", run.code, JSON.stringify(run.stderr))
    }
    for (const [k, v] of [["STABILITY_API_KEY", "stability:stable-image-core"], ["RECRAFT_API_TOKEN", "recraft"], ["IDEOGRAM_API_KEY", "ideogram"]] as const) {
      const run = yield* runConfigured(["generate", "-p", "x", "-m", v, "-o", "y.png"], { cwd, env: { ...env, [k]: "wrong" } })
      console.log(k, "=>", run.code, JSON.stringify(run.stderr))
    }
    console.log("requests", yield* s.server.count(), yield* r.server.count(), yield* i.server.count())
  }))
