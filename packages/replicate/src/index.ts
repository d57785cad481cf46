/**
 * @since 0.1.0
 */
export * as ReplicateClient from "./ReplicateClient.js"

/**
 * @since 0.1.0
 */
export * as ReplicateProvider from "./ReplicateProvider.js"
