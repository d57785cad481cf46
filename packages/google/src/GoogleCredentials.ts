/**
 * OAuth2 access tokens for Vertex AI. By default they come from Application Default Credentials through
 * `google-auth-library` (which caches and refreshes them); any other source can be injected, which is how
 * tests run without reaching Google.
 *
 * @since 0.1.0
 */
import { AuthenticationError } from "@image-gen/core/ImageError"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { GoogleAuth } from "google-auth-library"
import type { GoogleAuthOptions } from "google-auth-library"

/**
 * Yields a current access token each time it runs. Implementations cache; the client runs it once per
 * request.
 *
 * @since 0.1.0
 * @category Models
 */
export type TokenSource = Effect.Effect<Redacted.Redacted<string>, AuthenticationError>

/**
 * The OAuth2 scope Vertex AI needs.
 *
 * @since 0.1.0
 * @category Constants
 */
export const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

/**
 * What authentication errors name when ADC fails.
 *
 * @since 0.1.0
 * @category Constants
 */
export const adcKeyName =
  "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, or `gcloud auth application-default login`)"

/**
 * `google-auth-library` options for ADC, re-exported for convenience.
 *
 * @since 0.1.0
 * @category Models
 */
export type { GoogleAuthOptions }

const messageOf = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/**
 * A token source backed by `google-auth-library`'s `GoogleAuth`: Application Default Credentials by
 * default (`GOOGLE_APPLICATION_CREDENTIALS`, the gcloud ADC file, the metadata server), or whatever
 * `options` name (`keyFilename`, `credentials`, `clientOptions`, ...). Scope: cloud-platform.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const fromGoogleAuth = (
  options: GoogleAuthOptions = {},
  context: { readonly provider?: string | undefined } = {}
): Effect.Effect<TokenSource> =>
  Effect.sync(() => {
    const auth = new GoogleAuth({ scopes: [cloudPlatformScope], ...options })
    const fail = (detail: string) =>
      new AuthenticationError({
        ...(context.provider === undefined ? {} : { provider: context.provider }),
        keyName: adcKeyName,
        detail
      })
    return Effect.tryPromise({
      try: () => auth.getAccessToken(),
      catch: (cause) => fail(`could not obtain an access token: ${messageOf(cause)}`)
    }).pipe(
      Effect.flatMap((token) =>
        typeof token === "string" && token !== ""
          ? Effect.succeed(Redacted.make(token))
          : Effect.fail(fail("the credentials produced no access token"))
      ),
      Effect.withSpan("GoogleCredentials.accessToken", { captureStackTrace: false })
    )
  })

/**
 * A fixed token (for tests, or a token minted elsewhere).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const fixed = (token: string | Redacted.Redacted<string>): TokenSource =>
  Effect.succeed(typeof token === "string" ? Redacted.make(token) : token)
