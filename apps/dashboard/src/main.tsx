import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { browserSessionStorage, createTokenStore } from "./data/token-store.ts";
import { loadBrowserEnv } from "./env.ts";
import "./styles.css";

// 5 s by default: every poll costs three calls of the API's "moderate" read policy (60/min per caller).
const env = loadBrowserEnv({
  VITE_POLL_INTERVAL_MS: "5000",
  ...(import.meta.env as Record<string, string | undefined>),
});
const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <App
      apiUrl={env.VITE_API_URL}
      pollIntervalMs={env.VITE_POLL_INTERVAL_MS}
      tokenStore={createTokenStore(browserSessionStorage())}
    />
  </StrictMode>,
);
