import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as ImageGen from "@image-gen/core/ImageGen"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as GoogleProvider from "../src/GoogleProvider.js"
import * as GoogleStudioProvider from "../src/GoogleStudioProvider.js"
import type * as FakeGoogle from "../src/testing.js"

export const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)

export const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const

/** A router over one provider layer, built in the current scope. */
export const router = <E>(providerLayer: Layer.Layer<ImageProvider.ImageProvider, E, never>) =>
  Effect.gen(function*() {
    const ctx = yield* Layer.build(providerLayer)
    return yield* ImageGen.make([Context.get(ctx, ImageProvider.ImageProvider)], { retry })
  })

export const studioLayer = (fake: FakeGoogle.Service, key = "test-gemini-key") =>
  GoogleStudioProvider.layer({ apiKey: Redacted.make(key), baseUrl: fake.url }).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )

export const vertexKeyLayer = (fake: FakeGoogle.Service, project?: string, key = "test-vertex-key") =>
  GoogleProvider.layer({
    backend: {
      _tag: "VertexApiKey",
      apiKey: Redacted.make(key),
      ...(project === undefined ? {} : { project }),
      location: "us-central1",
      baseUrl: fake.url
    }
  }).pipe(Layer.provide(NodeHttpClient.layerUndici))

export const vertexAdcLayer = (fake: FakeGoogle.Service, options: Partial<GoogleProvider.Options> = {}) =>
  GoogleProvider.layer({
    backend: {
      _tag: "VertexAdc",
      project: "my-project",
      location: "us-central1",
      baseUrl: fake.url,
      googleAuthOptions: fake.googleAuthOptions
    },
    ...options
  }).pipe(Layer.provide(NodeHttpClient.layerUndici))

export const pngSize = (bytes: Uint8Array | undefined) => {
  const b = Buffer.from(bytes ?? new Uint8Array())
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) }
}
