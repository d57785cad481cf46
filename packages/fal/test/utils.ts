import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as ImageGen from "@image-gen/core/ImageGen"
import { FalClient, FalProvider } from "@image-gen/fal"
import * as FakeFal from "@image-gen/fal/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

export const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)

export const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const

/** A fake fal, the provider pointed at it, and the router over the provider. */
export const setup = (
  fakeOptions: FakeFal.Options = {},
  providerOptions: FalProvider.Options & { readonly apiKey?: Redacted.Redacted | null } = {}
) =>
  Effect.gen(function*() {
    // Built in the test's scope: the undici dispatcher lives as long as the test.
    const live = yield* Layer.build(Live)
    const fake = yield* FakeFal.make(fakeOptions)
    const { apiKey, ...rest } = providerOptions
    const provider = yield* FalProvider.make({
      pollInterval: "10 millis",
      stepRetry: { attempts: 3, maxWait: "100 millis", baseDelay: "10 millis" },
      ...rest
    }).pipe(
      Effect.provide(
        FalClient.layer({
          ...(apiKey === null ? {} : { apiKey: apiKey ?? Redacted.make("test-key") }),
          queueUrl: fake.queueUrl,
          restUrl: fake.restUrl
        })
      ),
      Effect.provide(live)
    )
    const gen = yield* ImageGen.make([provider], { retry }).pipe(Effect.provide(live))
    return { fake, gen, server: fake.server }
  })

export const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = Date.now()
    const a = yield* self
    return [a, Date.now() - start] as const
  })
