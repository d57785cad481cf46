/**
 * @since 0.1.0
 */
export * as HiggsfieldClient from "./HiggsfieldClient.js"

/**
 * @since 0.1.0
 */
export * as HiggsfieldProvider from "./HiggsfieldProvider.js"
