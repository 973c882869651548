// The page: mounts the app once the session in the URL hash is replayed, and follows the
// browser's back and forward buttons (each explicit step pushed a history entry).
import { render } from "preact";
import { onKey } from "./keys";
import { loadFromLocation } from "./state";
import "./style.css";
import { App } from "./views/app";

async function start(): Promise<void> {
  await loadFromLocation();
  const root = document.getElementById("app");
  if (!root) return;
  root.textContent = "";
  render(<App />, root);
  window.addEventListener("popstate", () => void loadFromLocation());
  document.addEventListener("keydown", onKey);
}

void start();
