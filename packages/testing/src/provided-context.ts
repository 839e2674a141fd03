// What the global setup hands to tests through vitest's provide()/inject().
declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the shared test Redis (TCP). */
    redisUrl: string;
    /** URL of a gateway in front of it (REST path). */
    gatewayUrl: string;
    /** Bearer token of that gateway. */
    gatewayToken: string;
  }
}

export {};
