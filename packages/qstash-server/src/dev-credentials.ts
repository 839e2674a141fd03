/** A bearer token with the signing keys its deliveries are signed with (one isolated tenant). */
export interface TenantCredentials {
  /** Bearer token (`Authorization: Bearer <token>`). */
  token: string;
  /** Key that signs deliveries now. */
  currentSigningKey: string;
  /** Key that will replace it (Receiver verifies with either). */
  nextSigningKey: string;
}

/** The default user of QStash's local dev server: the credentials `@upstash/qstash` dev mode expects. */
export const DEV_CREDENTIALS: TenantCredentials = {
  token: "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=",
  currentSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
  nextSigningKey: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs",
};

/** The three extra users of QStash's local dev server (each its own tenant when enabled). */
export const DEV_TEST_USERS: readonly TenantCredentials[] = [
  {
    token: "eyJVc2VySUQiOiJ0ZXN0VXNlcjEiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
    currentSigningKey: "sig_7GVPjvuwsfqF65iC8fSrs1dfYruM",
    nextSigningKey: "sig_5NoELc3EFnZn4DVS5bDs2Nk4b7Ua",
  },
  {
    token: "eyJVc2VySUQiOiJ0ZXN0VXNlcjIiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
    currentSigningKey: "sig_6jWGaWRxHsw4vMSPJprXadyvrybF",
    nextSigningKey: "sig_7qHbvhmahe5GwfePDiS5Lg3pi6Qx",
  },
  {
    token: "eyJVc2VySUQiOiJ0ZXN0VXNlcjMiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
    currentSigningKey: "sig_5T8FcSsynBjn9mMLBsXhpacRovJf",
    nextSigningKey: "sig_7GFR4YaDshFcqsxWRZpRB161jguD",
  },
];
