import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as ImageGen from "@image-gen/core/ImageGen"
import type * as ImageProvider from "@image-gen/core/ImageProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as OpenAiProvider from "../src/OpenAiProvider.js"
import * as FakeOpenAi from "../src/testing.js"

export const Env = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)

export const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const

export const routerFor = (provider: ImageProvider.Service) => ImageGen.make([provider], { retry })

/** A fake, an `openai` provider pointed at it, and the router over it. */
export const setup = (
  fakeOptions: FakeOpenAi.Options = {},
  providerOptions: OpenAiProvider.Options = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeOpenAi.make({ apiKey: "sk-test", ...fakeOptions })
    const provider = yield* OpenAiProvider.make({
      apiKey: Redacted.make("sk-test"),
      apiUrl: fake.url,
      ...providerOptions
    })
    const gen = yield* routerFor(provider)
    return { fake, provider, gen, server: fake.server }
  })

export const pngBytes = (w = 8, h = 8) => FakeOpenAi.png(w, h)

export const isPng = (bytes: Uint8Array | undefined) =>
  bytes !== undefined && Buffer.from(bytes.subarray(1, 4)).toString("latin1") === "PNG"
