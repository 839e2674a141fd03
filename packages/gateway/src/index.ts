export { startGateway, type RunningGateway } from "./gateway.ts";
export { GatewayError, type GatewayErrorCode } from "./errors.ts";
export {
  parseGatewayOptions,
  type GatewayOptions,
  type ResolvedGatewayOptions,
} from "./options.ts";
