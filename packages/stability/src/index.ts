/**
 * @since 0.1.0
 */
export * as StabilityClient from "./StabilityClient.js"

/**
 * @since 0.1.0
 */
export * as StabilityProvider from "./StabilityProvider.js"
