/**
 * @since 0.1.0
 */
export * as BflClient from "./BflClient.js"

/**
 * @since 0.1.0
 */
export * as BflProvider from "./BflProvider.js"
