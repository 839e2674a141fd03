import { COMMAND_SCENARIOS } from "./scenarios-commands.ts";
import { DATA_TYPE_SCENARIOS } from "./scenarios-data.ts";
import type { ScenarioTable } from "./scenario-support.ts";

export { redisMessage, settle, type KeyOf, type Scenario } from "./scenario-support.ts";

/** Every command family of the contract, with the result each must produce on every transport. */
export const SCENARIOS: ScenarioTable = { ...DATA_TYPE_SCENARIOS, ...COMMAND_SCENARIOS };
