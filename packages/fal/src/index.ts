/**
 * @since 0.1.0
 */
export * as FalClient from "./FalClient.js"

/**
 * @since 0.1.0
 */
export * as FalProvider from "./FalProvider.js"
