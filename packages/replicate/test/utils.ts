import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import * as ImageGen from "@image-gen/core/ImageGen"
import type * as ImageProvider from "@image-gen/core/ImageProvider"
import { ReplicateClient, ReplicateProvider } from "@image-gen/replicate"
import * as FakeReplicate from "@image-gen/replicate/testing"
import type { FakeRequest } from "@image-gen/testing"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"

export const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)

export const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const

/** A fake, a provider pointed at it, and the router over that provider. */
export const setup = (
  fakeOptions: FakeReplicate.Options = {},
  providerOptions: ReplicateProvider.Options & Omit<ReplicateClient.Options, "apiKey" | "apiUrl"> & {
    readonly token?: string | null
  } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeReplicate.make(fakeOptions)
    const token = providerOptions.token === undefined ? fake.token : providerOptions.token
    // Tests poll every 25 ms unless they pass their own schedule.
    const provider: ImageProvider.Service = yield* ReplicateProvider.make({
      pollSchedule: Schedule.spaced(Duration.millis(25)),
      ...providerOptions
    }).pipe(
      Effect.provide(
        ReplicateClient.layer({
          ...providerOptions,
          ...(token === null ? {} : { apiKey: Redacted.make(token) }),
          apiUrl: fake.apiUrl
        })
      )
    )
    const gen = yield* ImageGen.make([provider], { retry })
    return { fake, gen, provider }
  })

export const createFilter = { method: "POST", path: "/v1/models/:owner/:name/predictions" }
export const versionCreateFilter = { method: "POST", path: "/v1/predictions" }
export const getFilter = { method: "GET", path: "/v1/predictions/:id" }
export const cancelFilter = { method: "POST", path: "/v1/predictions/:id/cancel" }
export const filesFilter = { method: "POST", path: "/v1/files" }

export const bodyOf = (request: FakeRequest.FakeRequest | undefined) =>
  Effect.map(request!.json, (json) => json as { readonly input: Record<string, unknown> } & Record<string, unknown>)
