/**
 * A scriptable provider for CLI tests. Its model decides what happens:
 * `ok` returns a 1x1 PNG, `blocked` fails with ContentBlocked, `down` with ProviderUnavailable. Every call
 * is recorded, so tests can check that bad input never reaches a provider.
 */
import { type Catalog, ImageError, ImageProvider, ImageResult } from "@image-gen/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const onePixelPng = Uint8Array.from(
  Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    "base64"
  )
)

const catalog: Catalog.CatalogFile = {
  provider: "stub",
  defaultModel: "ok",
  acceptsUnknownModels: true,
  models: [
    {
      id: "ok",
      shorthands: [],
      output: "image",
      capabilities: { edit: true, mask: true },
      lifecycle: { status: "current" }
    },
    { id: "blocked", shorthands: [], output: "image", capabilities: {}, lifecycle: { status: "current" } },
    { id: "down", shorthands: [], output: "image", capabilities: {}, lifecycle: { status: "current" } }
  ]
}

export const make = () => {
  const calls: Array<ImageProvider.ProviderCall> = []
  const layer = Layer.succeed(
    ImageProvider.ImageProvider,
    ImageProvider.make({
      id: "stub",
      catalog,
      generate: (call) =>
        Effect.suspend((): Effect.Effect<ImageResult.ProviderResult, ImageError.ImageError> => {
          calls.push(call)
          switch (call.model) {
            case "blocked":
              return Effect.fail(
                new ImageError.ContentBlocked({ provider: "stub", model: call.model, reason: "nudity filter" })
              )
            case "down":
              return Effect.fail(
                new ImageError.ProviderUnavailable({ provider: "stub", model: call.model, status: 503 })
              )
            default:
              return Effect.succeed({
                requestId: "stub-1",
                costUsd: 0.04,
                images: Array.from(
                  { length: call.n },
                  () =>
                    new ImageResult.GeneratedImage({ bytes: onePixelPng, mediaType: "image/png", width: 1, height: 1 })
                )
              })
          }
        })
    })
  )
  return { calls, layer }
}
