/**
 * @since 0.1.0
 */
export * as IdeogramClient from "./IdeogramClient.js"

/**
 * @since 0.1.0
 */
export * as IdeogramProvider from "./IdeogramProvider.js"
